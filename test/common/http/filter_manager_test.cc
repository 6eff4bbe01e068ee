// FilterManager iteration rules, with scripted filters and a recording owner. No network: the
// filter manager is pure logic over one stream.

#include "source/common/http/filter_manager.h"

#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/event/dispatcher_impl.h"

namespace waystone::http {
namespace {

// The stream's owner: records what reaches the codec.
class RecordingOwner : public FilterManagerCallbacks {
 public:
  void encode1xxHeaders(ResponseHeaderMap&) override { ++continues; }
  void encodeHeaders(ResponseHeaderMap& headers, bool end_stream) override {
    response_headers = headers;
    events.push_back(end_stream ? "headers+end" : "headers");
  }
  void encodeData(buffer::Instance& data, bool end_stream) override {
    response_body += data.toString();
    data.drain(data.length());
    events.push_back(end_stream ? "data+end" : "data");
  }
  void encodeTrailers(ResponseTrailerMap&) override { events.push_back("trailers"); }
  void onDecoderFilterAboveWriteBufferHighWatermark() override { ++above; }
  void onDecoderFilterBelowWriteBufferLowWatermark() override { ++below; }
  void resetStream() override { ++resets; }
  const router::Route* route() override { return nullptr; }
  void clearRouteCache() override {}
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  uint64_t streamId() const override { return 1; }
  bool isGrpcRequest() const override { return grpc; }

  event::DispatcherImpl dispatcher_{"test"};
  ResponseHeaderMap response_headers;
  std::string response_body;
  std::vector<std::string> events;
  int continues = 0, above = 0, below = 0, resets = 0;
  bool grpc = false;
};

// A filter whose answers are scripted and whose calls are recorded in a shared log.
class ScriptedFilter : public StreamFilter {
 public:
  ScriptedFilter(std::string name, std::vector<std::string>& log)
      : name_(std::move(name)), log_(log) {}

  FilterHeadersStatus decodeHeaders(RequestHeaderMap&, bool end_stream) override {
    log_.push_back(name_ + ".decodeHeaders" + (end_stream ? "+end" : ""));
    return decode_headers_status;
  }
  FilterDataStatus decodeData(buffer::Instance& data, bool end_stream) override {
    log_.push_back(name_ + ".decodeData(" + data.toString() + ")" + (end_stream ? "+end" : ""));
    if (on_decode_data) {
      on_decode_data();
    }
    return decode_data_status;
  }
  FilterTrailersStatus decodeTrailers(RequestTrailerMap&) override {
    log_.push_back(name_ + ".decodeTrailers");
    return decode_trailers_status;
  }
  void setDecoderFilterCallbacks(StreamDecoderFilterCallbacks& callbacks) override {
    decoder = &callbacks;
  }
  FilterHeadersStatus encodeHeaders(ResponseHeaderMap& headers, bool end_stream) override {
    log_.push_back(name_ + ".encodeHeaders" + (end_stream ? "+end" : ""));
    headers.addCopy("x-seen-by", name_);
    return encode_headers_status;
  }
  FilterDataStatus encodeData(buffer::Instance& data, bool end_stream) override {
    log_.push_back(name_ + ".encodeData(" + data.toString() + ")" + (end_stream ? "+end" : ""));
    return encode_data_status;
  }
  FilterTrailersStatus encodeTrailers(ResponseTrailerMap&) override {
    log_.push_back(name_ + ".encodeTrailers");
    return FilterTrailersStatus::Continue;
  }
  void setEncoderFilterCallbacks(StreamEncoderFilterCallbacks& callbacks) override {
    encoder = &callbacks;
  }
  void onDestroy() override { ++destroyed; }

  FilterHeadersStatus decode_headers_status = FilterHeadersStatus::Continue;
  FilterDataStatus decode_data_status = FilterDataStatus::Continue;
  FilterTrailersStatus decode_trailers_status = FilterTrailersStatus::Continue;
  FilterHeadersStatus encode_headers_status = FilterHeadersStatus::Continue;
  FilterDataStatus encode_data_status = FilterDataStatus::Continue;
  std::function<void()> on_decode_data;
  StreamDecoderFilterCallbacks* decoder = nullptr;
  StreamEncoderFilterCallbacks* encoder = nullptr;
  int destroyed = 0;

 private:
  const std::string name_;
  std::vector<std::string>& log_;
};

RequestHeaderMapPtr request(absl::string_view method = "POST") {
  auto headers = std::make_unique<RequestHeaderMap>();
  headers->addCopy(":method", method);
  headers->addCopy(":path", "/");
  headers->addCopy(":authority", "host");
  return headers;
}

ResponseHeaderMapPtr response(absl::string_view status = "200") {
  auto headers = std::make_unique<ResponseHeaderMap>();
  headers->addCopy(":status", status);
  return headers;
}

class FilterManagerTest : public ::testing::Test {
 protected:
  std::shared_ptr<ScriptedFilter> add(const std::string& name) {
    auto filter = std::make_shared<ScriptedFilter>(name, log_);
    manager_.addStreamFilter(filter);
    return filter;
  }
  void data(absl::string_view bytes, bool end_stream) {
    buffer::OwnedImpl buffer(bytes);
    manager_.decodeData(buffer, end_stream);
  }

  std::vector<std::string> log_;
  RecordingOwner owner_;
  stream_info::StreamInfo info_;
  FilterManager manager_{owner_, info_, 16};
};

TEST_F(FilterManagerTest, ContinueRunsEveryFilterInOrder) {
  add("a");
  add("b");
  manager_.decodeHeaders(request(), false);
  data("hi", true);
  EXPECT_EQ(log_, (std::vector<std::string>{"a.decodeHeaders", "b.decodeHeaders",
                                            "a.decodeData(hi)+end", "b.decodeData(hi)+end"}));
  EXPECT_TRUE(manager_.requestComplete());
}

TEST_F(FilterManagerTest, StopIterationHoldsLaterFiltersButShowsDataToTheStopper) {
  auto a = add("a");
  add("b");
  a->decode_headers_status = FilterHeadersStatus::StopIteration;
  a->decode_data_status = FilterDataStatus::StopIterationAndBuffer;
  manager_.decodeHeaders(request(), false);
  data("one", false);
  data("two", true);
  EXPECT_EQ(log_, (std::vector<std::string>{"a.decodeHeaders", "a.decodeData(one)",
                                            "a.decodeData(two)+end"}));
  ASSERT_NE(a->decoder->decodingBuffer(), nullptr);
  EXPECT_EQ(a->decoder->decodingBuffer()->toString(), "onetwo");
  log_.clear();
  a->decoder->continueDecoding();
  // Headers then the buffered body go on to b, ending the request.
  EXPECT_EQ(log_, (std::vector<std::string>{"b.decodeHeaders", "b.decodeData(onetwo)+end"}));
  EXPECT_TRUE(manager_.requestComplete());
}

TEST_F(FilterManagerTest, StopAllIterationBuffersWithoutShowingData) {
  auto a = add("a");
  add("b");
  a->decode_headers_status = FilterHeadersStatus::StopAllIterationAndBuffer;
  manager_.decodeHeaders(request(), false);
  data("abc", true);
  EXPECT_EQ(log_, (std::vector<std::string>{"a.decodeHeaders"}));
  a->decoder->continueDecoding();
  EXPECT_EQ(log_, (std::vector<std::string>{"a.decodeHeaders", "b.decodeHeaders",
                                            "b.decodeData(abc)+end"}));
}

TEST_F(FilterManagerTest, HeadersOnlyRequestContinuedKeepsEndStream) {
  auto a = add("a");
  add("b");
  a->decode_headers_status = FilterHeadersStatus::StopIteration;
  manager_.decodeHeaders(request("GET"), true);
  a->decoder->continueDecoding();
  EXPECT_EQ(log_, (std::vector<std::string>{"a.decodeHeaders+end", "b.decodeHeaders+end"}));
  EXPECT_TRUE(manager_.requestComplete());
}

TEST_F(FilterManagerTest, BufferOverLimitAnswers413) {
  auto a = add("a");
  a->decode_headers_status = FilterHeadersStatus::StopAllIterationAndBuffer;
  manager_.decodeHeaders(request(), false);
  data(std::string(10, 'x'), false);
  EXPECT_TRUE(owner_.events.empty());
  data(std::string(10, 'y'), false);  // 20 > limit 16
  EXPECT_EQ(owner_.response_headers.status(), 413u);
  EXPECT_EQ(owner_.response_body, "Payload Too Large");
  EXPECT_EQ(info_.response_code_details, "request_payload_too_large");
  // Later request bytes are dropped, not buffered.
  data(std::string(100, 'z'), true);
  EXPECT_EQ(a->decoder->decodingBuffer(), nullptr);
}

TEST_F(FilterManagerTest, WatermarkBufferingPausesInsteadOfFailing) {
  auto a = add("a");
  add("b");
  a->decode_headers_status = FilterHeadersStatus::StopAllIterationAndWatermark;
  manager_.decodeHeaders(request(), false);
  data(std::string(20, 'x'), false);
  EXPECT_EQ(owner_.above, 1);
  EXPECT_TRUE(owner_.events.empty());
  a->decoder->continueDecoding();
  EXPECT_EQ(owner_.below, 1);
  EXPECT_EQ(log_.back(), "b.decodeData(" + std::string(20, 'x') + ")");
}

TEST_F(FilterManagerTest, LocalReplyPassesOnlyEarlierEncoders) {
  add("a");
  auto b = add("b");
  add("c");
  b->decode_headers_status = FilterHeadersStatus::StopIteration;
  manager_.decodeHeaders(request(), true);
  b->decoder->sendLocalReply(403, "denied", nullptr, std::nullopt, "test_denied");
  EXPECT_EQ(owner_.response_headers.status(), 403u);
  EXPECT_EQ(owner_.response_headers.getAll("x-seen-by"), (std::vector<absl::string_view>{"a"}));
  EXPECT_EQ(owner_.response_body, "denied");
  EXPECT_EQ(owner_.response_headers.getValue("content-type"), "text/plain");
  EXPECT_EQ(owner_.response_headers.getValue("content-length"), "6");
  EXPECT_TRUE(manager_.responseComplete());
  // c never saw the request.
  for (const auto& entry : log_) {
    EXPECT_NE(entry.rfind("c.", 0), 0u) << entry;
  }
}

TEST_F(FilterManagerTest, GrpcLocalReplyIsTrailersOnly) {
  owner_.grpc = true;
  auto a = add("a");
  a->decode_headers_status = FilterHeadersStatus::StopIteration;
  manager_.decodeHeaders(request(), true);
  a->decoder->sendLocalReply(503, "no upstream", nullptr, std::nullopt, "x");
  EXPECT_EQ(owner_.events, (std::vector<std::string>{"headers+end"}));
  EXPECT_EQ(owner_.response_headers.status(), 200u);
  EXPECT_EQ(owner_.response_headers.getValue("grpc-status"), "14");
  EXPECT_EQ(owner_.response_headers.getValue("grpc-message"), "no upstream");
}

TEST_F(FilterManagerTest, ResponseRunsEncodersInReverse) {
  add("a");
  auto b = add("b");
  manager_.decodeHeaders(request("GET"), true);
  log_.clear();
  b->decoder->encodeHeaders(response(), false, "via_upstream");
  buffer::OwnedImpl body("resp");
  b->decoder->encodeData(body, true);
  // b made the response, so only a (configured before b) encodes it.
  EXPECT_EQ(log_, (std::vector<std::string>{"a.encodeHeaders", "a.encodeData(resp)+end"}));
  EXPECT_EQ(owner_.events, (std::vector<std::string>{"headers", "data+end"}));
  EXPECT_EQ(info_.response_code, 200u);
  EXPECT_EQ(info_.response_code_details, "via_upstream");
}

TEST_F(FilterManagerTest, EncoderStopAndContinue) {
  auto a = add("a");
  add("b");
  auto router = add("router");
  manager_.decodeHeaders(request("GET"), true);
  a->encode_headers_status = FilterHeadersStatus::StopIteration;
  a->encode_data_status = FilterDataStatus::StopIterationAndBuffer;
  router->decoder->encodeHeaders(response(), false, "via_upstream");
  buffer::OwnedImpl body("xyz");
  router->decoder->encodeData(body, true);
  EXPECT_TRUE(owner_.events.empty());
  a->encoder->continueEncoding();
  EXPECT_EQ(owner_.events, (std::vector<std::string>{"headers", "data+end"}));
  EXPECT_EQ(owner_.response_body, "xyz");
  EXPECT_TRUE(manager_.responseComplete());
}

TEST_F(FilterManagerTest, ResponseBufferOverLimitBecomes500) {
  auto a = add("a");
  auto router = add("router");
  manager_.decodeHeaders(request("GET"), true);
  a->encode_headers_status = FilterHeadersStatus::StopAllIterationAndBuffer;
  router->decoder->encodeHeaders(response(), false, "via_upstream");
  buffer::OwnedImpl body(std::string(40, 'r'));
  router->decoder->encodeData(body, true);
  EXPECT_EQ(owner_.response_headers.status(), 500u);
  EXPECT_EQ(info_.response_code_details, "response_payload_too_large");
}

TEST_F(FilterManagerTest, TrailersWaitForAStoppedFilter) {
  auto a = add("a");
  add("b");
  a->decode_headers_status = FilterHeadersStatus::StopAllIterationAndBuffer;
  manager_.decodeHeaders(request(), false);
  data("d", false);
  manager_.decodeTrailers(std::make_unique<RequestTrailerMap>());
  EXPECT_EQ(log_, (std::vector<std::string>{"a.decodeHeaders"}));
  a->decoder->continueDecoding();
  EXPECT_EQ(log_, (std::vector<std::string>{"a.decodeHeaders", "b.decodeHeaders", "b.decodeData(d)",
                                            "a.decodeTrailers", "b.decodeTrailers"}));
  EXPECT_TRUE(manager_.requestComplete());
}

// StopIteration (unlike StopAll*) still shows the filter the rest of the request, trailers
// included: the router relies on it to forward trailers.
TEST_F(FilterManagerTest, TrailersReachAFilterStoppedWithStopIteration) {
  auto a = add("a");
  add("b");
  a->decode_headers_status = FilterHeadersStatus::StopIteration;
  a->decode_data_status = FilterDataStatus::StopIterationNoBuffer;
  a->decode_trailers_status = FilterTrailersStatus::StopIteration;
  manager_.decodeHeaders(request(), false);
  data("d", false);
  manager_.decodeTrailers(std::make_unique<RequestTrailerMap>());
  EXPECT_EQ(log_,
            (std::vector<std::string>{"a.decodeHeaders", "a.decodeData(d)", "a.decodeTrailers"}));
  EXPECT_FALSE(manager_.requestComplete());
}

TEST_F(FilterManagerTest, TrailersContinueFromAStoppedFilterResumes) {
  auto a = add("a");
  add("b");
  a->decode_headers_status = FilterHeadersStatus::StopIteration;
  a->decode_data_status = FilterDataStatus::StopIterationAndBuffer;
  manager_.decodeHeaders(request(), false);
  data("d", false);
  manager_.decodeTrailers(std::make_unique<RequestTrailerMap>());
  EXPECT_EQ(log_,
            (std::vector<std::string>{"a.decodeHeaders", "a.decodeData(d)", "a.decodeTrailers",
                                      "b.decodeHeaders", "b.decodeData(d)", "b.decodeTrailers"}));
  EXPECT_TRUE(manager_.requestComplete());
}

TEST_F(FilterManagerTest, DataContinueFromStoppedFilterResumes) {
  auto a = add("a");
  add("b");
  a->decode_headers_status = FilterHeadersStatus::StopIteration;
  manager_.decodeHeaders(request(), false);
  data("go", true);  // a returns Continue for data: iteration resumes
  EXPECT_EQ(log_, (std::vector<std::string>{"a.decodeHeaders", "a.decodeData(go)+end",
                                            "b.decodeHeaders", "b.decodeData(go)+end"}));
}

TEST_F(FilterManagerTest, LocalReplyAfterResponseStartedResets) {
  add("a");
  auto router = add("router");
  manager_.decodeHeaders(request("GET"), true);
  router->decoder->encodeHeaders(response(), false, "via_upstream");
  router->decoder->sendLocalReply(500, "late", nullptr, std::nullopt, "late");
  EXPECT_EQ(owner_.resets, 1);
}

TEST_F(FilterManagerTest, OnDestroyRunsOncePerFilter) {
  auto a = add("a");
  auto decoder_only = std::make_shared<ScriptedFilter>("d", log_);
  manager_.addStreamDecoderFilter(decoder_only);
  manager_.destroyFilters();
  manager_.destroyFilters();
  EXPECT_EQ(a->destroyed, 1);
  EXPECT_EQ(decoder_only->destroyed, 1);
}

TEST_F(FilterManagerTest, HeadLocalReplyHasNoBody) {
  auto a = add("a");
  a->decode_headers_status = FilterHeadersStatus::StopIteration;
  manager_.decodeHeaders(request("HEAD"), true);
  a->decoder->sendLocalReply(404, "not here", nullptr, std::nullopt, "x");
  EXPECT_EQ(owner_.events, (std::vector<std::string>{"headers+end"}));
  EXPECT_EQ(owner_.response_headers.getValue("content-length"), "8");
}

}  // namespace
}  // namespace waystone::http
