// The HTTP server on a tiny synthetic model, over real sockets: concurrent clients, a client that
// leaves mid-request (aborted, 499, blocks back), and graceful drains. Runs under ThreadSanitizer
// (the tsan preset) as well as the release and ASan builds.
#include "api/http/http_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "../tiny_model.h"
#include "api/model_registry.h"

namespace sluice::api {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<Model> http_tiny_model() {
  auto model = testing::load_tiny_model("http-test");
  EXPECT_TRUE(model) << model.error();
  return std::move(*model);
}

// A server on a free port, serving on its own thread until the test ends (or drains it).
class Served {
 public:
  Served() {
    state_.options.port = 0;
    state_.ready = true;
    auto load = [this](const ModelSpec& spec) -> Result<ModelLease> {
      auto ctx = std::make_shared<ModelContext>(state_);
      ctx->model_id = spec.id;
      ctx->model = http_tiny_model();
      EngineConfig c;
      c.kv_cache_bytes = 32 << 20;
      c.num_threads = 1;
      SLUICE_ASSIGN_OR_RETURN(ctx->engine, Engine::create(*ctx->model, c));
      return ctx;
    };
    state_.models = std::make_unique<ModelRegistry>(std::vector<ModelSpec>{{"tiny", "", "", 0}},
                                                    RegistryLimits{}, load);
    lease_ = state_.models->acquire("tiny", 60);
    server_ = std::make_unique<HttpServer>(state_);
    EXPECT_TRUE(server_->bind());
    thread_ = std::thread([this] {
      server_->run();
      stopped_ = true;
    });
  }
  ~Served() {
    if (!stopped_) server_->stop();
    thread_.join();
    lease_.reset();
    state_.models.reset();
  }
  int port() const { return server_->port(); }
  HttpServer& server() { return *server_; }
  ModelContext& ctx() { return *lease_; }
  ServerState& state() { return state_; }
  bool stopped() const { return stopped_; }
  // The sluice_requests_total sample of `route` and `status` (0 when absent).
  int count(const std::string& route, int status, const std::string& model = "tiny") {
    const std::string text = state_.metrics.render({}, {});
    const std::string key = "sluice_requests_total{route=\"" + route + "\",model=\"" + model +
                            "\",status=\"" + std::to_string(status) + "\"} ";
    const size_t at = text.find(key);
    return at == std::string::npos ? 0 : std::stoi(text.substr(at + key.size()));
  }
  bool wait_blocks_free(double seconds) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline) {
      const EngineMetrics m = lease_->engine->metrics();
      if (m.kv_blocks_used == 0 && m.num_running == 0 && m.num_waiting == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  ServerState state_;
  ModelLease lease_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

std::string completion_body(int max_tokens, bool stream) {
  return R"({"prompt": "a b c", "max_tokens": )" + std::to_string(max_tokens) +
         R"(, "ignore_eos": true, "temperature": 0, "stream": )" + (stream ? "true" : "false") +
         "}";
}

// Sends a request on a fresh socket (Connection: close) and returns it unread. Raw sockets, not
// httplib::Client: the prebuilt library's lazily built statics read as races under TSan.
int send_request(int port, const std::string& method, const std::string& path,
                 const std::string& body = "") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req = method + " " + path +
                          " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                          "application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  EXPECT_EQ(send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  return fd;
}

int raw_post(int port, const std::string& body) {
  return send_request(port, "POST", "/v1/completions", body);
}

// The status of a whole exchange (-1 when no status line came back).
int http_status(int port, const std::string& method, const std::string& path,
                const std::string& body = "") {
  const int fd = send_request(port, method, path, body);
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;)
    reply.append(buf, static_cast<size_t>(n));
  close(fd);
  if (reply.rfind("HTTP/1.1 ", 0) != 0 || reply.size() < 12) return -1;
  return std::stoi(reply.substr(9, 3));
}

void wait_running(ModelContext& ctx) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (ctx.engine->metrics().kv_blocks_used == 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GT(ctx.engine->metrics().kv_blocks_used, 0);
}

TEST(HttpServer, ConcurrentClientsAreEachAnsweredAndCountedOnce) {
  Served s;
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i)
    clients.emplace_back([&, i] {
      if (http_status(s.port(), "POST", "/v1/completions", completion_body(8, i % 2 == 1)) == 200)
        ++ok;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(http_status(s.port(), "GET", "/no/such/route"), 404);
  // Counted once written: the client may read its answer a moment before.
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  while (s.count("other", 404, "") == 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(s.count("/v1/completions", 200), 6);
  EXPECT_EQ(s.count("other", 404, ""), 1);
  EXPECT_TRUE(s.wait_blocks_free(2));
}

TEST(HttpServer, AClientThatLeavesAbortsItsRequest) {
  for (bool stream : {false, true}) {
    Served s;
    const int fd = raw_post(s.port(), completion_body(s.ctx().engine->max_model_len() - 8, stream));
    wait_running(s.ctx());
    close(fd);
    EXPECT_TRUE(s.wait_blocks_free(1.5)) << "stream " << stream;
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    while (s.count("/v1/completions", 499) == 0 && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(s.count("/v1/completions", 499), 1) << "stream " << stream;
  }
}

TEST(HttpServer, DrainLetsRunningRequestsFinishAndRefusesNewOnes) {
  Served s;
  std::atomic<int> status{0};
  std::thread client([&] {
    status = http_status(s.port(), "POST", "/v1/completions", completion_body(1000, false));
  });
  wait_running(s.ctx());
  std::thread drain([&] { s.server().drain(30); });
  while (!s.state().draining) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(http_status(s.port(), "GET", "/health"), 503);
  client.join();
  drain.join();
  EXPECT_EQ(status.load(), 200);
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  while (!s.stopped() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(s.stopped());
}

TEST(HttpServer, DrainPastItsTimeoutAbortsTheRest) {
  Served s;
  std::atomic<int> status{0};
  std::thread client([&] {
    status = http_status(s.port(), "POST", "/v1/completions",
                         completion_body(s.ctx().engine->max_model_len() - 8, false));
  });
  wait_running(s.ctx());
  const auto t0 = Clock::now();
  s.server().drain(0.2);
  client.join();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 1.5);
  EXPECT_EQ(status.load(), 503);
}

}  // namespace
}  // namespace sluice::api
