#include "source/common/http/header_map.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace waystone::http {
namespace {

bool isPseudo(absl::string_view key) { return !key.empty() && key[0] == ':'; }

std::string lower(absl::string_view key) { return absl::AsciiStrToLower(key); }

}  // namespace

HeaderMap::HeaderMap(std::initializer_list<std::pair<std::string, std::string>> headers) {
  for (const auto& [key, value] : headers) {
    addCopy(key, value);
  }
}

void HeaderMap::addCopy(absl::string_view key, absl::string_view value) {
  HeaderEntry entry{lower(key), std::string(value)};
  byte_size_ += entry.key.size() + entry.value.size();
  if (isPseudo(entry.key)) {
    // Keep pseudo-headers ahead of regular headers (HTTP/2 requires it on the wire).
    auto it = entries_.begin();
    while (it != entries_.end() && isPseudo(it->key)) {
      ++it;
    }
    entries_.insert(it, std::move(entry));
  } else {
    entries_.push_back(std::move(entry));
  }
}

void HeaderMap::setCopy(absl::string_view key, absl::string_view value) {
  const std::string k = lower(key);
  bool replaced = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->key != k) {
      ++it;
      continue;
    }
    if (!replaced) {
      byte_size_ = byte_size_ - it->value.size() + value.size();
      it->value = std::string(value);
      replaced = true;
      ++it;
    } else {
      byte_size_ -= it->key.size() + it->value.size();
      it = entries_.erase(it);
    }
  }
  if (!replaced) {
    addCopy(k, value);
  }
}

void HeaderMap::appendCopy(absl::string_view key, absl::string_view value) {
  const std::string k = lower(key);
  for (auto& entry : entries_) {
    if (entry.key == k) {
      if (!entry.value.empty()) {
        entry.value.append(", ");
        byte_size_ += 2;
      }
      entry.value.append(value.data(), value.size());
      byte_size_ += value.size();
      return;
    }
  }
  addCopy(k, value);
}

size_t HeaderMap::remove(absl::string_view key) {
  const std::string k = lower(key);
  return removeIf([&k](const HeaderEntry& entry) { return entry.key == k; });
}

size_t HeaderMap::removeIf(const std::function<bool(const HeaderEntry&)>& predicate) {
  size_t removed = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (predicate(*it)) {
      byte_size_ -= it->key.size() + it->value.size();
      it = entries_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

const HeaderEntry* HeaderMap::get(absl::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.key == key) {
      return &entry;
    }
  }
  return nullptr;
}

absl::string_view HeaderMap::getValue(absl::string_view key) const {
  const HeaderEntry* entry = get(key);
  return entry == nullptr ? absl::string_view() : absl::string_view(entry->value);
}

std::vector<absl::string_view> HeaderMap::getAll(absl::string_view key) const {
  std::vector<absl::string_view> out;
  for (const auto& entry : entries_) {
    if (entry.key == key) {
      out.push_back(entry.value);
    }
  }
  return out;
}

void HeaderMap::clear() {
  entries_.clear();
  byte_size_ = 0;
}

uint64_t HeaderMap::status() const {
  uint64_t status = 0;
  const absl::string_view value = getValue(":status");
  if (value.size() != 3 || !absl::SimpleAtoi(value, &status)) {
    return 0;
  }
  return status;
}

bool HeaderMap::operator==(const HeaderMap& other) const {
  if (entries_.size() != other.entries_.size()) {
    return false;
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].key != other.entries_[i].key || entries_[i].value != other.entries_[i].value) {
      return false;
    }
  }
  return true;
}

std::string HeaderMap::toString() const {
  std::string out;
  for (const auto& entry : entries_) {
    absl::StrAppend(&out, entry.key, ": ", entry.value, "\n");
  }
  return out;
}

}  // namespace waystone::http
