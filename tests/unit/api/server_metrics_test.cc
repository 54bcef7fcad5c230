// /metrics text: request counts by route, model and status; labels escaped; histograms labelled
// by model with cumulative buckets. And the client-socket probe the handlers poll.
#include "api/server_metrics.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http/client_socket.h"

namespace sluice::api {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(ServerMetrics, CountsEachRouteModelAndStatusApart) {
  ServerMetrics m;
  m.count_request("/v1/completions", "m1", 200);
  m.count_request("/v1/completions", "m1", 200);
  m.count_request("/v1/completions", "m1", 499);
  m.count_request("other", "", 404);
  const std::string text = m.render({}, {});
  EXPECT_TRUE(has_line(
      text, R"(sluice_requests_total{route="/v1/completions",model="m1",status="200"} 2)"));
  EXPECT_TRUE(has_line(
      text, R"(sluice_requests_total{route="/v1/completions",model="m1",status="499"} 1)"));
  EXPECT_TRUE(has_line(text, R"(sluice_requests_total{route="other",model="",status="404"} 1)"));
  EXPECT_EQ(text.find("status=\"-1\""), std::string::npos);
}

TEST(ServerMetrics, EscapesLabelValues) {
  ServerMetrics m;
  ModelMetrics mm;
  const std::string text = m.render({{"a\"b\\c\nd", &mm, nullptr, true}}, {});
  EXPECT_TRUE(has_line(text, R"(sluice_prompt_tokens_total{model="a\"b\\c\nd"} 0)")) << text;
}

TEST(ServerMetrics, HistogramsAreCumulativeAndLabelled) {
  ServerMetrics m;
  ModelMetrics mm;
  mm.e2e_s.observe(0.2);
  mm.e2e_s.observe(3);
  mm.e2e_s.observe(1000);
  const std::string text =
      m.render({{"m", &mm, nullptr, true}},
               {.in_flight = 2, .draining = true, .image_decodes = 5, .video_memo_hits = 3});
  EXPECT_TRUE(
      has_line(text, R"(sluice_e2e_request_latency_seconds_bucket{model="m",le="0.25"} 1)"));
  EXPECT_TRUE(has_line(text, R"(sluice_e2e_request_latency_seconds_bucket{model="m",le="5"} 2)"));
  EXPECT_TRUE(
      has_line(text, R"(sluice_e2e_request_latency_seconds_bucket{model="m",le="+Inf"} 3)"));
  EXPECT_TRUE(has_line(text, R"(sluice_e2e_request_latency_seconds_count{model="m"} 3)"));
  EXPECT_TRUE(has_line(text, "sluice_http_requests_in_flight 2"));
  EXPECT_TRUE(has_line(text, "sluice_server_draining 1"));
  EXPECT_TRUE(has_line(text, R"(sluice_media_decodes_total{kind="image"} 5)"));
  EXPECT_TRUE(has_line(text, R"(sluice_media_decodes_total{kind="video"} 0)"));
  EXPECT_TRUE(has_line(text, R"(sluice_media_memo_hits_total{kind="video"} 3)"));
}

// Two models: each family's header once, then one sample per model; engine series only for a
// loaded model with an engine.
TEST(ServerMetrics, LabelsEveryModelUnderOneHeaderPerFamily) {
  ServerMetrics m;
  ModelMetrics a, b;
  a.count_tokens(5, 7);
  EngineMetrics e;
  e.kv_blocks_total = 10;
  e.kv_blocks_used = 4;
  const std::string text = m.render({{"a", &a, &e, true}, {"b", &b, nullptr, false}}, {});
  EXPECT_TRUE(has_line(text, R"(sluice_model_loaded{model="a"} 1)"));
  EXPECT_TRUE(has_line(text, R"(sluice_model_loaded{model="b"} 0)"));
  EXPECT_TRUE(has_line(text, R"(sluice_prompt_tokens_total{model="a"} 5)"));
  EXPECT_TRUE(has_line(text, R"(sluice_generation_tokens_total{model="b"} 0)"));
  EXPECT_TRUE(has_line(text, R"(sluice_kv_cache_blocks_used{model="a"} 4)"));
  EXPECT_EQ(text.find(R"(sluice_kv_cache_blocks_used{model="b"})"), std::string::npos);
  size_t headers = 0;
  for (size_t at = 0;
       (at = text.find("# TYPE sluice_prompt_tokens_total ", at)) != std::string::npos; ++at)
    ++headers;
  EXPECT_EQ(headers, 1u);
}

TEST(ClientSocket, SeesThePeerClose) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  EXPECT_FALSE(socket_closed_by_peer(fds[0]));
  ASSERT_EQ(write(fds[1], "x", 1), 1);  // unread data is not a close
  EXPECT_FALSE(socket_closed_by_peer(fds[0]));
  {
    ClientSocketScope scope(fds[0]);
    EXPECT_FALSE(client_gone());
    close(fds[1]);
    char c;
    ASSERT_EQ(read(fds[0], &c, 1), 1);
    EXPECT_TRUE(client_gone());
  }
  EXPECT_FALSE(client_gone());  // no connection on this thread now
  close(fds[0]);
}

}  // namespace
}  // namespace sluice::api
