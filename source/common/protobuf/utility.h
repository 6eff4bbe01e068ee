#pragma once

// The proto utilities in one include: loading YAML/JSON/files into messages, --config-yaml
// merging, Any/TypedStruct unpacking, JSON printing and PGV rule validation.
#include "source/common/protobuf/any_unpacker.h"    // IWYU pragma: export
#include "source/common/protobuf/load_options.h"    // IWYU pragma: export
#include "source/common/protobuf/message_loader.h"  // IWYU pragma: export
#include "source/common/protobuf/pgv_validator.h"   // IWYU pragma: export
