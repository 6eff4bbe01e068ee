#pragma once

#include <memory>

namespace waystone {

// Owning pointer for a C handle with a free function, e.g.
//   using SslCtxPtr = CPtr<SSL_CTX, SSL_CTX_free>;
// Declare the alias next to the code that wraps the handle; never call the free function by hand.
template <class T, void (*Free)(T*)>
struct CDeleter {
  void operator()(T* p) const {
    if (p != nullptr) {
      Free(p);
    }
  }
};

template <class T, void (*Free)(T*)>
using CPtr = std::unique_ptr<T, CDeleter<T, Free>>;

}  // namespace waystone
