#include "source/common/http/header_map.h"

#include <string>

#include "gtest/gtest.h"

namespace waystone::http {
namespace {

uint64_t expectedSize(const HeaderMap& headers) {
  uint64_t size = 0;
  for (const HeaderEntry& entry : headers.entries()) {
    size += entry.key.size() + entry.value.size();
  }
  return size;
}

TEST(HeaderMapTest, AddCopyLowerCasesAndKeepsOrder) {
  HeaderMap headers;
  headers.addCopy("X-First", "1");
  headers.addCopy("x-second", "2");
  headers.addCopy("X-FIRST", "3");
  EXPECT_EQ("x-first: 1\nx-second: 2\nx-first: 3\n", headers.toString());
  EXPECT_EQ(3u, headers.size());
  EXPECT_EQ(expectedSize(headers), headers.byteSize());
}

TEST(HeaderMapTest, PseudoHeadersGoBeforeRegularOnes) {
  HeaderMap headers;
  headers.addCopy("user-agent", "t");
  headers.addCopy(":method", "GET");
  headers.addCopy("accept", "*/*");
  headers.addCopy(":path", "/");
  headers.addCopy(":authority", "h");
  // Pseudo-headers keep their relative order, ahead of every regular header.
  EXPECT_EQ(":method: GET\n:path: /\n:authority: h\nuser-agent: t\naccept: */*\n",
            headers.toString());
  EXPECT_EQ("GET", headers.method());
  EXPECT_EQ("/", headers.path());
  EXPECT_EQ("h", headers.host());
  EXPECT_EQ("", headers.scheme());
  EXPECT_EQ(expectedSize(headers), headers.byteSize());
}

TEST(HeaderMapTest, InitializerList) {
  const HeaderMap headers{{"b", "2"}, {":status", "200"}, {"A", "1"}};
  EXPECT_EQ(":status: 200\nb: 2\na: 1\n", headers.toString());
}

TEST(HeaderMapTest, SetCopyReplacesAllEntries) {
  HeaderMap headers;
  headers.addCopy("x-a", "1");
  headers.addCopy("x-b", "b");
  headers.addCopy("x-a", "22");
  headers.setCopy("X-A", "333");
  EXPECT_EQ("x-a: 333\nx-b: b\n", headers.toString());
  EXPECT_EQ(expectedSize(headers), headers.byteSize());
  headers.setCopy("x-new", "v");
  EXPECT_EQ("x-a: 333\nx-b: b\nx-new: v\n", headers.toString());
  EXPECT_EQ(expectedSize(headers), headers.byteSize());
  // A new pseudo-header still goes before regular headers.
  headers.setCopy(":status", "404");
  EXPECT_EQ(":status", headers.entries().front().key);
  EXPECT_EQ(expectedSize(headers), headers.byteSize());
}

TEST(HeaderMapTest, AppendCopy) {
  HeaderMap headers;
  headers.appendCopy("x-forwarded-for", "10.0.0.1");
  headers.appendCopy("X-Forwarded-For", "10.0.0.2");
  EXPECT_EQ("10.0.0.1, 10.0.0.2", headers.getValue("x-forwarded-for"));
  EXPECT_EQ(1u, headers.size());
  EXPECT_EQ(expectedSize(headers), headers.byteSize());
  headers.addCopy("empty", "");
  headers.appendCopy("empty", "v");
  EXPECT_EQ("v", headers.getValue("empty"));
  EXPECT_EQ(expectedSize(headers), headers.byteSize());
}

TEST(HeaderMapTest, RemoveAndRemoveIf) {
  HeaderMap headers{{"x-a", "1"}, {"x-b", "2"}, {"x-a", "3"}, {"y", "4"}};
  EXPECT_EQ(2u, headers.remove("X-A"));
  EXPECT_EQ(0u, headers.remove("x-a"));
  EXPECT_EQ("x-b: 2\ny: 4\n", headers.toString());
  EXPECT_EQ(expectedSize(headers), headers.byteSize());
  EXPECT_EQ(
      1u, headers.removeIf([](const HeaderEntry& entry) { return entry.key.rfind("x-", 0) == 0; }));
  EXPECT_EQ("y: 4\n", headers.toString());
  EXPECT_EQ(2u, headers.byteSize());
  headers.clear();
  EXPECT_TRUE(headers.empty());
  EXPECT_EQ(0u, headers.byteSize());
}

TEST(HeaderMapTest, GetDistinguishesAbsentFromEmpty) {
  HeaderMap headers{{"empty", ""}, {"multi", "1"}, {"multi", "2"}};
  ASSERT_NE(nullptr, headers.get("empty"));
  EXPECT_EQ("", headers.getValue("empty"));
  EXPECT_EQ(nullptr, headers.get("absent"));
  EXPECT_FALSE(headers.has("absent"));
  EXPECT_EQ("1", headers.getValue("multi"));
  ASSERT_EQ(2u, headers.getAll("multi").size());
  EXPECT_EQ("2", headers.getAll("multi")[1]);
  EXPECT_TRUE(headers.getAll("absent").empty());
}

TEST(HeaderMapTest, Status) {
  EXPECT_EQ(200u, (HeaderMap{{":status", "200"}}).status());
  EXPECT_EQ(0u, HeaderMap().status());
  EXPECT_EQ(0u, (HeaderMap{{":status", "20"}}).status());
  EXPECT_EQ(0u, (HeaderMap{{":status", "2000"}}).status());
  EXPECT_EQ(0u, (HeaderMap{{":status", "abc"}}).status());
  EXPECT_EQ(0u, (HeaderMap{{":status", "-20"}}).status());
}

TEST(HeaderMapTest, Equality) {
  const HeaderMap a{{"x", "1"}, {"y", "2"}};
  const HeaderMap b{{"X", "1"}, {"y", "2"}};
  const HeaderMap c{{"y", "2"}, {"x", "1"}};
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);  // order matters
  EXPECT_NE(a, (HeaderMap{{"x", "1"}}));
  EXPECT_NE(a, (HeaderMap{{"x", "1"}, {"y", "3"}}));
}

}  // namespace
}  // namespace waystone::http
