#pragma once

#include <memory>

#include "source/common/matcher/input_value.h"

namespace waystone::matcher {

// Extracts one value from the matching data (Envoy's DataInput): the network inputs read a
// ConnectionSocket, HTTP inputs would read a request's headers. Immutable and shared by workers,
// so get() must not change anything.
//
// Envoy's inputs can also answer "not available yet" for data that arrives in pieces; Waystone
// matches only on complete data (a socket after its listener filters, a request's full
// headers), so there is no such state.
template <class DataType>
class DataInput {
 public:
  virtual ~DataInput() = default;
  virtual InputValue get(const DataType& data) const = 0;
};

template <class DataType>
using DataInputPtr = std::unique_ptr<const DataInput<DataType>>;

}  // namespace waystone::matcher
