// ModelRegistry with a fake loader (no weights): lazy loads, names, failures and their retry,
// eviction of the least recently used idle model, leases that keep an unloaded model alive, and
// idle unload.
#include "api/model_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sluice::api {
namespace {

using namespace std::chrono_literals;

// Counts loads and live models; "bad*" ids fail to load; loads take `delay`.
struct FakeLoader {
  std::atomic<int> loads{0};
  std::shared_ptr<std::atomic<int>> alive = std::make_shared<std::atomic<int>>(0);
  std::chrono::milliseconds delay{0};

  ModelLoader fn() {
    return [this](const ModelSpec& spec) -> Result<ModelLease> {
      ++loads;
      std::this_thread::sleep_for(delay);
      if (spec.id.rfind("bad", 0) == 0) return Status::error("load", spec.id + " is corrupt");
      ++*alive;
      auto counter = alive;
      auto* ctx = new ModelContext;
      ctx->model_id = spec.id;
      return ModelLease(ctx, [counter](ModelContext* c) {
        --*counter;
        delete c;
      });
    };
  }
};

std::vector<ModelSpec> specs(std::initializer_list<const char*> ids) {
  std::vector<ModelSpec> out;
  for (const char* id : ids) out.push_back({id, std::string("/models/") + id, "", 100});
  return out;
}

int status_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    return e.status();
  }
  return 200;
}

TEST(ModelRegistry, ResolvesNamesAndRefusesUnknownOnes) {
  FakeLoader f;
  ModelRegistry two(specs({"a", "b"}), {}, f.fn());
  EXPECT_EQ(two.resolve(""), "a");  // the first is the default
  EXPECT_EQ(two.resolve("b"), "b");
  try {
    two.resolve("c");
    FAIL() << "an unknown model resolved";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.kind(), ErrorKind::kModelNotFound);
    EXPECT_NE(std::string(e.what()).find("'a', 'b'"), std::string::npos) << e.what();
  }
  ModelRegistry one(specs({"a"}), {}, f.fn());
  EXPECT_EQ(one.resolve("gpt-4o"), "a");  // one model: clients may name any
  RegistryLimits strict;
  strict.strict_ids = true;
  ModelRegistry one_strict(specs({"a"}), strict, f.fn());
  EXPECT_EQ(status_of([&] { one_strict.resolve("gpt-4o"); }), 404);
  EXPECT_EQ(f.loads, 0);  // resolving loads nothing
}

TEST(ModelRegistry, LoadsOnFirstUseOnce) {
  FakeLoader f;
  f.delay = 50ms;
  ModelRegistry r(specs({"a", "b"}), {}, f.fn());
  EXPECT_EQ(r.status("a")->state, ModelState::kUnloaded);
  std::vector<std::thread> clients;
  std::atomic<int> served{0};
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      if (ModelLease m = r.acquire("a", 10); m && m->model_id == "a") ++served;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(served, 8);
  EXPECT_EQ(f.loads, 1);
  EXPECT_EQ(r.status("a")->state, ModelState::kLoaded);
  EXPECT_EQ(r.status("b")->state, ModelState::kUnloaded);
}

TEST(ModelRegistry, AFailedLoadIsA503NamingWhyAndIsRetriedLater) {
  FakeLoader f;
  RegistryLimits limits;
  limits.retry_failed_after_s = 0.2;
  ModelRegistry r(specs({"good", "bad"}), limits, f.fn());
  try {
    r.acquire("bad", 10);
    FAIL() << "a broken model loaded";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 503);
    EXPECT_NE(std::string(e.what()).find("bad is corrupt"), std::string::npos) << e.what();
  }
  EXPECT_EQ(r.status("bad")->state, ModelState::kFailed);
  EXPECT_EQ(status_of([&] { r.acquire("bad", 10); }), 503);
  EXPECT_EQ(f.loads, 1);               // failed lately: not tried again
  EXPECT_TRUE(r.acquire("good", 10));  // the others are undisturbed
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(status_of([&] { r.acquire("bad", 10); }), 503);
  EXPECT_EQ(f.loads, 3);  // good once, bad twice
}

TEST(ModelRegistry, MaxLoadedEvictsTheLeastRecentlyUsedIdleModel) {
  FakeLoader f;
  RegistryLimits limits;
  limits.max_loaded = 2;
  ModelRegistry r(specs({"a", "b", "c"}), limits, f.fn());
  r.acquire("a", 10);
  std::this_thread::sleep_for(5ms);
  r.acquire("b", 10);
  std::this_thread::sleep_for(5ms);
  r.acquire("a", 10);  // a is now the more recent
  r.acquire("c", 10);
  EXPECT_EQ(r.status("a")->state, ModelState::kLoaded);
  EXPECT_EQ(r.status("b")->state, ModelState::kUnloaded);
  EXPECT_EQ(r.status("c")->state, ModelState::kLoaded);
  EXPECT_EQ(*f.alive, 2);
}

TEST(ModelRegistry, MemoryBudgetCountsFilesAndPerModelBytes) {
  FakeLoader f;
  RegistryLimits limits;
  limits.memory_bytes = 500;
  limits.per_model_bytes = 150;  // each model: 100 on disk + 150 = 250; two fit
  ModelRegistry r(specs({"a", "b", "c"}), limits, f.fn());
  r.acquire("a", 10);
  r.acquire("b", 10);
  EXPECT_EQ(*f.alive, 2);
  r.acquire("c", 10);
  EXPECT_EQ(*f.alive, 2);
  EXPECT_EQ(r.status("a")->state, ModelState::kUnloaded);
}

TEST(ModelRegistry, ABusyModelIsNotEvictedAndTheLoadWaitsThenFails) {
  FakeLoader f;
  RegistryLimits limits;
  limits.max_loaded = 1;
  limits.load_timeout_s = 0.3;
  ModelRegistry r(specs({"a", "b"}), limits, f.fn());
  ModelLease busy = r.acquire("a", 10);
  try {
    r.acquire("b", 10);
    FAIL() << "evicted a model in use";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 503);
    EXPECT_NE(std::string(e.what()).find("busy"), std::string::npos) << e.what();
  }
  EXPECT_EQ(r.status("a")->state, ModelState::kLoaded);
}

TEST(ModelRegistry, UnloadLetsRunningRequestsFinishOnTheirLease) {
  FakeLoader f;
  ModelRegistry r(specs({"a"}), {}, f.fn());
  ModelLease request = r.acquire("a", 10);
  EXPECT_TRUE(r.unload("a"));
  EXPECT_FALSE(r.unload("a"));  // not loaded any more
  EXPECT_EQ(r.status("a")->state, ModelState::kUnloaded);
  EXPECT_EQ(*f.alive, 1);  // the request still holds it
  EXPECT_EQ(request->model_id, "a");
  request.reset();
  EXPECT_EQ(*f.alive, 0);
  EXPECT_TRUE(r.acquire("a", 10));  // and the next request loads it again
  EXPECT_EQ(f.loads, 2);
}

TEST(ModelRegistry, IdleModelsAreUnloaded) {
  FakeLoader f;
  RegistryLimits limits;
  limits.idle_unload_s = 0.3;
  ModelRegistry r(specs({"a", "b"}), limits, f.fn());
  ModelLease held = r.acquire("a", 10);
  r.acquire("b", 10);
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(r.status("a")->state, ModelState::kLoaded);  // in use: never idle
  EXPECT_EQ(r.status("b")->state, ModelState::kUnloaded);
  EXPECT_EQ(*f.alive, 1);
  held.reset();
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(r.status("a")->state, ModelState::kUnloaded);
  EXPECT_EQ(*f.alive, 0);
}

}  // namespace
}  // namespace sluice::api
