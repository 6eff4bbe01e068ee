#include "source/config/bootstrap_loader.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace waystone::config {
namespace {

using testing::HasSubstr;

const std::string kTestData = "test/config/testdata/";

TEST(BootstrapLoaderTest, NoConfiguration) {
  auto bootstrap = loadBootstrap({});
  ASSERT_FALSE(bootstrap.ok());
  EXPECT_EQ(bootstrap.status().message(),
            "no configuration: pass -c/--config-path or --config-yaml");
}

TEST(BootstrapLoaderTest, LoadsYamlFile) {
  auto bootstrap = loadBootstrap({kTestData + "good_static.yaml", "", false});
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  EXPECT_EQ(bootstrap->node().id(), "waystone-test");
  EXPECT_EQ(bootstrap->static_resources().listeners_size(), 4);
  EXPECT_EQ(bootstrap->static_resources().clusters_size(), 6);
  // The !ignore'd anchor was substituted.
  EXPECT_EQ(bootstrap->static_resources()
                .clusters(0)
                .load_assignment()
                .endpoints(0)
                .lb_endpoints(0)
                .endpoint()
                .address()
                .socket_address()
                .port_value(),
            8080u);
}

TEST(BootstrapLoaderTest, LoadsJsonFile) {
  auto bootstrap = loadBootstrap({kTestData + "good_minimal.json", "", false});
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  EXPECT_EQ(bootstrap->admin().address().socket_address().port_value(), 15000u);
}

TEST(BootstrapLoaderTest, ConfigYamlAlone) {
  auto bootstrap = loadBootstrap(
      {"", "static_resources: {clusters: [{name: only, connect_timeout: 2s}]}", false});
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  EXPECT_EQ(bootstrap->static_resources().clusters(0).name(), "only");
}

TEST(BootstrapLoaderTest, ConfigYamlMergesOverFile) {
  auto bootstrap = loadBootstrap({kTestData + "good_minimal.json",
                                  "node: {id: merged}\n"
                                  "admin: {address: {socket_address: {port_value: 15001}}}\n"
                                  "static_resources: {clusters: [{name: extra}]}\n",
                                  false});
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  EXPECT_EQ(bootstrap->node().id(), "merged");
  EXPECT_EQ(bootstrap->admin().address().socket_address().address(), "::1");
  EXPECT_EQ(bootstrap->admin().address().socket_address().port_value(), 15001u);
  ASSERT_EQ(bootstrap->static_resources().clusters_size(), 2);
  EXPECT_EQ(bootstrap->static_resources().clusters(1).name(), "extra");
}

TEST(BootstrapLoaderTest, MergedResultIsValidated) {
  // Appending a cluster with a name the file already uses makes a duplicate.
  auto bootstrap = loadBootstrap(
      {kTestData + "good_minimal.json", "static_resources: {clusters: [{name: xds-grpc}]}", false});
  ASSERT_FALSE(bootstrap.ok());
  EXPECT_EQ(bootstrap.status().message(),
            "static_resources.clusters[1].name: duplicate cluster name \"xds-grpc\" (also "
            "static_resources.clusters[0])");
}

TEST(BootstrapLoaderTest, UnknownFieldsRejectedUnlessAllowed) {
  const std::string path = kTestData + "bad_unknown_field.yaml";
  auto strict = loadBootstrap({path, "", false});
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().message(),
            path + ": static_resources.clusters[0].conect_timeout: unknown field");
  auto lenient = loadBootstrap({path, "", true});
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  EXPECT_EQ(lenient->static_resources().clusters(0).name(), "c");
  EXPECT_FALSE(lenient->static_resources().clusters(0).has_connect_timeout());
}

TEST(BootstrapLoaderTest, ConfigYamlErrorsNameTheFlag) {
  auto bootstrap = loadBootstrap({"", "static_resources: [", false});
  ASSERT_FALSE(bootstrap.ok());
  EXPECT_THAT(std::string(bootstrap.status().message()),
              testing::StartsWith("--config-yaml: YAML syntax error at line"));
}

TEST(BootstrapLoaderTest, MissingFileNamesPath) {
  auto bootstrap = loadBootstrap({kTestData + "does_not_exist.yaml", "", false});
  ASSERT_FALSE(bootstrap.ok());
  EXPECT_THAT(std::string(bootstrap.status().message()),
              HasSubstr("cannot read config file 'test/config/testdata/does_not_exist.yaml'"));
}

TEST(BootstrapLoaderTest, ValidationErrorsFailTheLoad) {
  auto bootstrap = loadBootstrap({kTestData + "bad_port.yaml", "", false});
  ASSERT_FALSE(bootstrap.ok());
  EXPECT_THAT(std::string(bootstrap.status().message()),
              HasSubstr("port_value: value must be <= 65535 (got 70000)"));
}

}  // namespace
}  // namespace waystone::config
