#include "source/upstream/load_balancer/edf_scheduler.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace waystone::upstream::lb {
namespace {

TEST(EdfSchedulerTest, EmptyPicksNothing) {
  EdfScheduler<int> scheduler;
  EXPECT_TRUE(scheduler.empty());
  EXPECT_FALSE(scheduler.pickAndAdd([](int) { return 1.0; }).has_value());
}

TEST(EdfSchedulerTest, PicksInProportionToWeightEveryCycle) {
  EdfScheduler<std::string> scheduler;
  const std::map<std::string, double> weights{{"a", 1}, {"b", 2}, {"c", 7}};
  for (const auto& [name, weight] : weights) {
    scheduler.add(weight, name);
  }
  const auto weight_of = [&](const std::string& name) { return weights.at(name); };
  for (int cycle = 0; cycle < 50; ++cycle) {
    std::map<std::string, int> counts;
    for (int i = 0; i < 10; ++i) {
      ++counts[*scheduler.pickAndAdd(weight_of)];
    }
    EXPECT_EQ(counts["a"], 1) << "cycle " << cycle;
    EXPECT_EQ(counts["b"], 2) << "cycle " << cycle;
    EXPECT_EQ(counts["c"], 7) << "cycle " << cycle;
  }
  EXPECT_EQ(scheduler.size(), 3u);
}

TEST(EdfSchedulerTest, InterleavesRatherThanBursts) {
  // Smoothness: an item of weight w out of a total W comes back within about W / w picks,
  // rather than the heavy item running its whole share in one burst.
  EdfScheduler<int> scheduler;
  const std::vector<double> weights{1, 1, 8};
  for (int i = 0; i < 3; ++i) {
    scheduler.add(weights[i], i);
  }
  std::vector<int> last_seen(3, -1);
  std::vector<int> max_gap(3, 0);
  for (int i = 0; i < 1000; ++i) {
    const int picked = *scheduler.pickAndAdd([&](int item) { return weights[item]; });
    if (last_seen[picked] >= 0) {
      max_gap[picked] = std::max(max_gap[picked], i - last_seen[picked]);
    }
    last_seen[picked] = i;
  }
  EXPECT_LE(max_gap[0], 11);
  EXPECT_LE(max_gap[1], 11);
  EXPECT_LE(max_gap[2], 3);
}

TEST(EdfSchedulerTest, TiesGoToTheItemAddedFirst) {
  EdfScheduler<int> scheduler;
  scheduler.add(1, 10);
  scheduler.add(1, 20);
  scheduler.add(1, 30);
  std::vector<int> order;
  for (int i = 0; i < 6; ++i) {
    order.push_back(*scheduler.pickAndAdd([](int) { return 1.0; }));
  }
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30, 10, 20, 30}));
}

TEST(EdfSchedulerTest, NewWeightAppliesFromTheNextPick) {
  // Item 0 drops to a tiny weight after its first pick: from then on item 1 takes nearly all.
  EdfScheduler<int> scheduler;
  scheduler.add(1, 0);
  scheduler.add(1, 1);
  std::map<int, int> counts;
  for (int i = 0; i < 101; ++i) {
    ++counts[*scheduler.pickAndAdd([](int item) { return item == 0 ? 0.01 : 1.0; })];
  }
  EXPECT_EQ(counts[0], 1);
  EXPECT_EQ(counts[1], 100);
}

}  // namespace
}  // namespace waystone::upstream::lb
