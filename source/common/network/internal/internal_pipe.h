#pragma once

#include <cstdint>

#include "source/common/buffer/buffer_impl.h"

namespace waystone::network {

// What the two sides of one internal connection share: a byte queue per direction and who holds
// each side now. The client half owns it jointly (shared_ptr) with the server side, which is first
// an InternalConnectionSocket and then, after createConnection(), the server half; either side may
// close or be destroyed first. Single-threaded: both sides live on one worker.
//
// The pipe only stores and notifies. Endpoints never act inside a notification (they schedule work
// on their dispatcher), so a write on one side never runs code of the other side on its stack.
class InternalPipe {
 public:
  enum class Side { Client, Server };

  static Side other(Side side) { return side == Side::Client ? Side::Server : Side::Client; }

  // Whoever holds one side now.
  class Endpoint {
   public:
    virtual ~Endpoint() = default;
    // The other side wrote, half-closed or went away. Must only schedule work.
    virtual void onPeerActivity() = 0;
    // The other side consumed some of what this side wrote (flow control).
    virtual void onPeerConsumed() = 0;
    // Bytes this endpoint took out of the pipe but has not consumed yet (its read buffer): they
    // still count against the writer's buffer limit.
    virtual uint64_t unconsumedBytes() const = 0;
  };

  // Bytes going towards one side.
  struct Direction {
    // Written by the sender, not yet taken by the receiver. Whole slices are moved in and out.
    buffer::OwnedImpl pending;
    // The sender half-closed after `pending`.
    bool end_stream = false;
  };

  Direction& towards(Side receiver) { return receiver == Side::Client ? to_client_ : to_server_; }
  const Direction& towards(Side receiver) const {
    return receiver == Side::Client ? to_client_ : to_server_;
  }

  Endpoint* endpoint(Side side) const { return endpoints_[index(side)]; }
  // True once `side` closed or was destroyed: it reads and writes nothing more.
  bool gone(Side side) const { return gone_[index(side)]; }

  // `endpoint` now holds `side` (the server half replacing the socket, for instance).
  void attach(Side side, Endpoint* endpoint) { endpoints_[index(side)] = endpoint; }

  // Moves `data` (emptied) towards the other side and tells it.
  void write(Side from, buffer::Instance& data, bool end_stream) {
    Direction& direction = towards(other(from));
    direction.pending.move(data);
    direction.end_stream = direction.end_stream || end_stream;
    notify(other(from));
  }

  // `side` closed or was destroyed: what was sent to it is dropped (nobody will read it), what it
  // sent stays for the other side, which is told.
  void detach(Side side) {
    if (gone(side)) {
      return;
    }
    gone_[index(side)] = true;
    endpoints_[index(side)] = nullptr;
    Direction& incoming = towards(side);
    incoming.pending.drain(incoming.pending.length());
    notify(other(side));
  }

  // What `writer` has written that the other side has not consumed: its "write buffer" for flow
  // control. Zero once the other side is gone.
  uint64_t unconsumedBy(Side writer) const {
    const Side reader = other(writer);
    if (gone(reader)) {
      return 0;
    }
    const Endpoint* reader_endpoint = endpoint(reader);
    return towards(reader).pending.length() +
           (reader_endpoint != nullptr ? reader_endpoint->unconsumedBytes() : 0);
  }

 private:
  static int index(Side side) { return side == Side::Client ? 0 : 1; }

  void notify(Side side) {
    if (Endpoint* target = endpoint(side); target != nullptr) {
      target->onPeerActivity();
    }
  }

  Direction to_client_;
  Direction to_server_;
  Endpoint* endpoints_[2] = {nullptr, nullptr};
  bool gone_[2] = {false, false};
};

}  // namespace waystone::network
