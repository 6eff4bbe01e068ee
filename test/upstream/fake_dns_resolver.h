#pragma once

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

#include "source/upstream/dns_resolver.h"

namespace waystone::upstream {

// A DnsResolver whose answers the test sets: tests cannot edit /etc/hosts. Thread-safe (the
// resolver thread calls it); remembers which threads resolved.
class FakeDnsResolver : public DnsResolver {
 public:
  // `name` resolves to these IPs (each with the port asked for).
  void set(const std::string& name, const std::vector<std::string>& ips) {
    DnsResolution resolution;
    resolution.status = DnsResolution::Status::kSuccess;
    for (const auto& ip : ips) {
      resolution.addresses.push_back(*network::address::parseIp(ip, 0));
    }
    if (ips.empty()) {
      resolution.details = "Name or service not known";
    }
    std::lock_guard<std::mutex> guard(lock_);
    answers_[name] = std::move(resolution);
  }
  // `name` fails to resolve (the resolver could not answer).
  void fail(const std::string& name) {
    DnsResolution resolution;
    resolution.status = DnsResolution::Status::kFailure;
    resolution.details = "Temporary failure in name resolution";
    std::lock_guard<std::mutex> guard(lock_);
    answers_[name] = std::move(resolution);
  }

  DnsResolution resolve(const std::string& name, uint16_t port, DnsLookupFamily) override {
    std::lock_guard<std::mutex> guard(lock_);
    ++calls_;
    threads_.push_back(std::this_thread::get_id());
    auto it = answers_.find(name);
    if (it == answers_.end()) {
      DnsResolution unknown;
      unknown.status = DnsResolution::Status::kSuccess;
      unknown.details = "Name or service not known";
      return unknown;
    }
    DnsResolution out = it->second;
    for (auto& address : out.addresses) {
      address = *network::address::parseIp(address->ipString(), port);
    }
    return out;
  }

  int calls() {
    std::lock_guard<std::mutex> guard(lock_);
    return calls_;
  }
  std::vector<std::thread::id> threads() {
    std::lock_guard<std::mutex> guard(lock_);
    return threads_;
  }

 private:
  std::mutex lock_;
  std::map<std::string, DnsResolution> answers_;
  int calls_ = 0;
  std::vector<std::thread::id> threads_;
};

}  // namespace waystone::upstream
