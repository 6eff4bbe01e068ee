#include "source/common/stats/store.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "source/common/stats/render_filter.h"

namespace waystone::stats {
namespace {

using testing::ElementsAre;

std::vector<std::string> counterNames(const StoreSnapshot& snapshot) {
  std::vector<std::string> names;
  for (const CounterSnapshot& counter : snapshot.counters) {
    names.push_back(counter.name);
  }
  return names;
}

TEST(StoreTest, SameNameReturnsSameObject) {
  Store store;
  Counter& a = store.counterFromString("cluster.a.upstream_cx_total");
  Counter& b = store.counterFromString("cluster.a.upstream_cx_total");
  Counter& c = store.counterFromString("cluster.b.upstream_cx_total");
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  EXPECT_EQ(a.name(), "cluster.a.upstream_cx_total");
  EXPECT_EQ(&store.gaugeFromString("g"), &store.gaugeFromString("g"));
  EXPECT_EQ(&store.histogramFromString("h"), &store.histogramFromString("h"));
  EXPECT_EQ(&store.textReadoutFromString("t"), &store.textReadoutFromString("t"));
}

TEST(StoreTest, ReferencesStayValidWhileManyStatsAreCreated) {
  Store store;
  Counter& first = store.counterFromString("first");
  first.inc();
  for (int i = 0; i < 10000; ++i) {
    store.counterFromString(absl::StrCat("stat.", i)).inc();
  }
  first.add(2);
  EXPECT_EQ(first.value(), 3u);
  EXPECT_EQ(&first, &store.counterFromString("first"));
}

TEST(StoreTest, CounterValueAndUsed) {
  Store store;
  Counter& counter = store.counterFromString("c");
  EXPECT_FALSE(counter.used());
  EXPECT_EQ(counter.value(), 0u);
  counter.add(0);
  EXPECT_TRUE(counter.used());
  counter.inc();
  counter.add(41);
  EXPECT_EQ(counter.value(), 42u);
}

TEST(StoreTest, GaugeOperations) {
  Store store;
  Gauge& gauge = store.gaugeFromString("g");
  EXPECT_FALSE(gauge.used());
  gauge.inc();
  gauge.inc();
  gauge.dec();
  EXPECT_TRUE(gauge.used());
  EXPECT_EQ(gauge.value(), 1u);
  gauge.add(10);
  gauge.sub(3);
  EXPECT_EQ(gauge.value(), 8u);
  gauge.set(100);
  EXPECT_EQ(gauge.value(), 100u);
  Gauge& only_set = store.gaugeFromString("set_only");
  only_set.set(0);
  EXPECT_TRUE(only_set.used());
}

TEST(StoreTest, TextReadout) {
  Store store;
  TextReadout& readout = store.textReadoutFromString("server.version");
  EXPECT_FALSE(readout.used());
  readout.set("1.2.3");
  EXPECT_TRUE(readout.used());
  EXPECT_EQ(readout.value(), "1.2.3");
}

TEST(StoreTest, ScopePrefixesNames) {
  Store store;
  ScopeSharedPtr scope = store.createScope("listener.0.0.0.0_10000.");
  EXPECT_EQ(scope->prefix(), "listener.0.0.0.0_10000");
  Counter& counter = scope->counterFromString("downstream_cx_total");
  EXPECT_EQ(counter.name(), "listener.0.0.0.0_10000.downstream_cx_total");
  EXPECT_EQ(&counter, &store.counterFromString("listener.0.0.0.0_10000.downstream_cx_total"));
  EXPECT_EQ(scope->gaugeFromString("downstream_cx_active").name(),
            "listener.0.0.0.0_10000.downstream_cx_active");
  EXPECT_EQ(scope->histogramFromString("downstream_cx_length_ms").name(),
            "listener.0.0.0.0_10000.downstream_cx_length_ms");

  // Without the trailing dot, nested, and with Envoy's ':' sanitizing.
  ScopeSharedPtr no_dot = store.createScope("cluster.a");
  EXPECT_EQ(no_dot->counterFromString("x").name(), "cluster.a.x");
  ScopeSharedPtr nested = no_dot->createScope("circuit_breakers.default.");
  EXPECT_EQ(nested->gaugeFromString("cx_open").name(),
            "cluster.a.circuit_breakers.default.cx_open");
  EXPECT_EQ(store.createScope("listener.[::]:80")->counterFromString("c").name(),
            "listener.[__]_80.c");
  EXPECT_EQ(store.rootScope().counterFromString("server.live").name(), "server.live");
}

TEST(StoreTest, StatsOutliveTheirScope) {
  Store store;
  Counter* counter = nullptr;
  {
    ScopeSharedPtr scope = store.createScope("tmp");
    counter = &scope->counterFromString("c");
  }
  counter->inc();
  EXPECT_EQ(store.counterFromString("tmp.c").value(), 1u);
}

TEST(StoreTest, ExplicitTagsKeepTheirNameAndTags) {
  Store store;
  const TagVector tags = {{"reporter", "destination"}, {"response_code", "200"}};
  Counter& counter = store.counterFromStringWithTags("istio.istio_requests_total", tags);
  EXPECT_EQ(counter.name(), "istio.istio_requests_total.reporter.destination.response_code.200");
  EXPECT_EQ(&counter, &store.counterFromStringWithTags("istio.istio_requests_total", tags));
  counter.inc();
  const StoreSnapshot snapshot = store.snapshot();
  ASSERT_EQ(snapshot.counters.size(), 1u);
  EXPECT_EQ(snapshot.counters[0].tag_extracted_name, "istio.istio_requests_total");
  EXPECT_EQ(snapshot.counters[0].tags, tags);
  ScopeSharedPtr scope = store.createScope("istio");
  EXPECT_EQ(&scope->counterFromStringWithTags("istio_requests_total", tags), &counter);
}

TEST(StoreTest, SnapshotIsSortedAndCarriesTags) {
  Store store;
  store.counterFromString("cluster.b.upstream_cx_total").add(2);
  store.counterFromString("cluster.a.upstream_cx_total").add(1);
  store.counterFromString("a_first");
  const StoreSnapshot snapshot = store.snapshot();
  EXPECT_THAT(counterNames(snapshot),
              ElementsAre("a_first", "cluster.a.upstream_cx_total", "cluster.b.upstream_cx_total"));
  EXPECT_FALSE(snapshot.counters[0].used);
  EXPECT_EQ(snapshot.counters[1].value, 1u);
  EXPECT_EQ(snapshot.counters[1].tag_extracted_name, "cluster.upstream_cx_total");
  EXPECT_EQ(snapshot.counters[1].tags, (TagVector{{"envoy.cluster_name", "a"}}));
}

TEST(StoreTest, SnapshotAppliesFilter) {
  Store store;
  store.counterFromString("cluster.a.upstream_cx_total").inc();
  store.counterFromString("cluster.a.upstream_cx_none");
  store.gaugeFromString("cluster.a.upstream_cx_active").set(1);
  store.histogramFromString("cluster.a.upstream_cx_length_ms").recordValue(1);
  StatsRenderOptions options;
  options.used_only = true;
  options.type = StatsRenderOptions::Type::Counters;
  absl::StatusOr<RenderFilter> filter = RenderFilter::create(options);
  ASSERT_TRUE(filter.ok());
  const StoreSnapshot snapshot = store.snapshot(*filter);
  EXPECT_THAT(counterNames(snapshot), ElementsAre("cluster.a.upstream_cx_total"));
  EXPECT_TRUE(snapshot.gauges.empty());
  EXPECT_TRUE(snapshot.histograms.empty());
}

TEST(StoreTest, SetTagExtractorReextractsExistingStats) {
  Store store;
  store.counterFromString(
      "cluster.outbound|80||reviews.default.svc.cluster.local.upstream_cx_total");
  // Istio's bootstrap rule for cluster names containing dots.
  absl::StatusOr<std::shared_ptr<const TagExtractor>> istio = TagExtractor::create(
      {{"cluster_name", R"(^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.))", ""}}, false);
  ASSERT_TRUE(istio.ok()) << istio.status();
  store.setTagExtractor(*istio);
  const StoreSnapshot snapshot = store.snapshot();
  ASSERT_EQ(snapshot.counters.size(), 1u);
  EXPECT_EQ(snapshot.counters[0].tag_extracted_name, "cluster.upstream_cx_total");
  EXPECT_EQ(snapshot.counters[0].tags,
            (TagVector{{"cluster_name", "outbound|80||reviews.default.svc.cluster.local"}}));
}

TEST(StoreTest, ConcurrentCreationAndIncrements) {
  Store store;
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      // Every thread looks the shared stats up itself: creation races must yield one object.
      Counter& shared = store.counterFromString("shared.counter");
      Gauge& gauge = store.gaugeFromString("shared.gauge");
      Histogram& histogram = store.histogramFromString("shared.histogram");
      Counter& own = store.counterFromString(absl::StrCat("thread.", t));
      for (int i = 0; i < kIncrements; ++i) {
        shared.inc();
        own.add(2);
        gauge.inc();
        histogram.recordValue(static_cast<uint64_t>(i % 10));
        if (i % 1000 == 0) {
          store.counterFromString(absl::StrCat("thread.", t, ".batch.", i)).inc();
        }
      }
      gauge.sub(kIncrements);
    });
  }
  // Snapshots while writers run must not crash or see torn state.
  for (int i = 0; i < 20; ++i) {
    const StoreSnapshot snapshot = store.snapshot();
    for (const HistogramSnapshot& histogram : snapshot.histograms) {
      EXPECT_EQ(histogram.statistics.computedBuckets().back(), histogram.statistics.sampleCount());
    }
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(store.counterFromString("shared.counter").value(),
            static_cast<uint64_t>(kThreads * kIncrements));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(store.counterFromString(absl::StrCat("thread.", t)).value(),
              static_cast<uint64_t>(2 * kIncrements));
  }
  EXPECT_EQ(store.gaugeFromString("shared.gauge").value(), 0u);
  const HistogramStatistics statistics = store.histogramFromString("shared.histogram").statistics();
  EXPECT_EQ(statistics.sampleCount(), static_cast<uint64_t>(kThreads * kIncrements));
  // Each thread records 0..9 evenly: sum is 4.5 per sample.
  EXPECT_EQ(statistics.sampleSum(), static_cast<uint64_t>(kThreads * kIncrements / 10 * 45));
  EXPECT_EQ(store.snapshot().counters.size(), static_cast<size_t>(1 + kThreads + kThreads * 50));
}

}  // namespace
}  // namespace waystone::stats
