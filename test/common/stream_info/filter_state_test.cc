#include "source/common/stream_info/filter_state.h"

#include "gtest/gtest.h"

#include "source/common/stream_info/filter_state_objects.h"

namespace waystone::stream_info {
namespace {

using StateType = FilterState::StateType;
using StreamSharing = FilterState::StreamSharing;

FilterState::ObjectSharedPtr str(const std::string& value) {
  return std::make_shared<const StringAccessor>(value);
}

std::string text(const FilterState& state, absl::string_view name) {
  const auto* object = state.getData(name);
  return object == nullptr ? "<none>" : object->serializeAsString().value_or("<no text>");
}

TEST(FilterStateTest, ReadOnlyEntriesCannotBeReplacedMutableOnesCan) {
  FilterState state;
  ASSERT_TRUE(state.setData("ro", str("a"), StateType::ReadOnly).ok());
  auto again = state.setData("ro", str("b"), StateType::ReadOnly);
  EXPECT_EQ(absl::StatusCode::kFailedPrecondition, again.code());
  EXPECT_EQ("filter state \"ro\" is read-only and already set", again.message());
  EXPECT_EQ("a", text(state, "ro"));

  ASSERT_TRUE(state.setData("rw", str("a"), StateType::Mutable).ok());
  ASSERT_TRUE(state.setData("rw", str("b"), StateType::Mutable).ok());
  EXPECT_EQ("b", text(state, "rw"));
  EXPECT_FALSE(state.setData("x", nullptr, StateType::Mutable).ok());
}

TEST(FilterStateTest, RequestSeesConnectionStateAndCannotOverrideItsReadOnlyEntries) {
  auto connection = std::make_shared<FilterState>();
  ASSERT_TRUE(connection->setData("peer", str("spiffe://td/ns/a/sa/b"), StateType::ReadOnly).ok());
  FilterState request(connection);
  EXPECT_EQ("spiffe://td/ns/a/sa/b", text(request, "peer"));
  EXPECT_FALSE(request.setData("peer", str("forged"), StateType::Mutable).ok());
  EXPECT_EQ("<none>", text(request, "missing"));
  EXPECT_EQ(nullptr, request.getDataReadOnly<AddressObject>("peer"));
  EXPECT_NE(nullptr, request.getDataReadOnly<StringAccessor>("peer"));
}

TEST(FilterStateTest, OnceEntriesCrossOneHopTransitiveOnesKeepGoing) {
  auto connection = std::make_shared<FilterState>();
  ASSERT_TRUE(connection
                  ->setData("transitive", str("t"), StateType::ReadOnly,
                            StreamSharing::SharedWithUpstreamConnection)
                  .ok());
  FilterState request(connection);
  ASSERT_TRUE(request
                  .setData("once", str("o"), StateType::ReadOnly,
                           StreamSharing::SharedWithUpstreamConnectionOnce)
                  .ok());
  ASSERT_TRUE(request.setData("local", str("l"), StateType::ReadOnly).ok());

  // Hop 1: the internal listener's connection receives "once" and "transitive".
  FilterState hop1;
  hop1.addSharedFromDownstream(request.objectsSharedWithUpstreamConnection());
  EXPECT_EQ("o", text(hop1, "once"));
  EXPECT_EQ("t", text(hop1, "transitive"));
  EXPECT_EQ("<none>", text(hop1, "local"));

  // Hop 2: only "transitive" goes on.
  FilterState hop2;
  hop2.addSharedFromDownstream(hop1.objectsSharedWithUpstreamConnection());
  EXPECT_EQ("<none>", text(hop2, "once"));
  EXPECT_EQ("t", text(hop2, "transitive"));
}

TEST(FilterStateTest, NearerLevelHidesParentEntryWhenSharing) {
  auto connection = std::make_shared<FilterState>();
  ASSERT_TRUE(connection
                  ->setData("k", str("parent"), StateType::Mutable,
                            StreamSharing::SharedWithUpstreamConnection)
                  .ok());
  FilterState request(connection);
  ASSERT_TRUE(request
                  .setData("k", str("child"), StateType::Mutable,
                           StreamSharing::SharedWithUpstreamConnection)
                  .ok());
  auto shared = request.objectsSharedWithUpstreamConnection();
  ASSERT_EQ(1u, shared.size());
  EXPECT_EQ("child", shared[0].object->serializeAsString().value());
}

TEST(FilterStateObjectsTest, FactoriesBuildTypedObjectsAndNameBadInput) {
  auto address = createFilterStateObject(kOriginalDstLocalIp, "10.96.0.10:9080");
  ASSERT_TRUE(address.ok()) << address.status();
  const auto* as_address = dynamic_cast<const AddressObject*>(address->get());
  ASSERT_NE(nullptr, as_address);
  EXPECT_EQ(9080, as_address->address()->port());
  EXPECT_EQ("10.96.0.10:9080", (*address)->serializeAsString().value());

  auto bad = createFilterStateObject(kOriginalDstLocalIp, "reviews:9080");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(
      "filter state \"envoy.filters.listener.original_dst.local_ip\": \"reviews:9080\" is not an "
      "IP:port address",
      bad.status().message());

  auto hashable = createFilterStateObject("istio.hashable_string", "spiffe://a");
  ASSERT_TRUE(hashable.ok());
  EXPECT_TRUE((*hashable)->hash().has_value());
  auto plain = createFilterStateObject("envoy.string", "spiffe://a");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->hash().has_value());

  auto unknown = createFilterStateObject("no.such.factory", "x");
  EXPECT_EQ("unknown filter state object factory \"no.such.factory\"", unknown.status().message());
  EXPECT_FALSE(hasFilterStateObjectFactory("no.such.factory"));
  EXPECT_TRUE(hasFilterStateObjectFactory("envoy.string"));
}

}  // namespace
}  // namespace waystone::stream_info
