#pragma once

#include <cstdio>
#include <cstdlib>

// Invariant checks. WAYSTONE_RELEASE_ASSERT is always on: use it where continuing would corrupt
// state. WAYSTONE_ASSERT is for debug builds only (compiled out with NDEBUG): use it on hot paths.
// Never use either for input validation; bad input gets an error, not an abort.

#define WAYSTONE_RELEASE_ASSERT(cond, details)                                                 \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      ::fprintf(stderr, "assert failure: %s. Details: %s (%s:%d)\n", #cond, details, __FILE__, \
                __LINE__);                                                                     \
      ::abort();                                                                               \
    }                                                                                          \
  } while (false)

#ifdef NDEBUG
#define WAYSTONE_ASSERT(cond, details) \
  do {                                 \
  } while (false)
#else
#define WAYSTONE_ASSERT(cond, details) WAYSTONE_RELEASE_ASSERT(cond, details)
#endif

// Marks code that must be unreachable.
#define WAYSTONE_BUG(details) WAYSTONE_RELEASE_ASSERT(false, details)
