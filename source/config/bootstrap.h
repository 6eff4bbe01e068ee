#pragma once

// Bootstrap loading and validation in one include (loadBootstrap, validateBootstrap).
#include "source/config/bootstrap_loader.h"     // IWYU pragma: export
#include "source/config/bootstrap_validator.h"  // IWYU pragma: export
