// ModelContext::require_task: each task's POST routes pass, the others' are a 400 that names
// the task served; GET routes pass for every task.
#include <gtest/gtest.h>

#include "api/model_context.h"

namespace sluice::api {
namespace {

std::string refusal(ServedTask task, const std::string& method, const std::string& route) {
  ModelContext ctx;
  ctx.task = task;
  ctx.model_id = "m";
  try {
    ctx.require_task(method, route);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.what();
  }
  return "";
}

TEST(ServedTask, RerankServesOnlyTheRerankRoutes) {
  for (const char* r : {"/v1/rerank", "/rerank", "/v2/rerank"})
    EXPECT_EQ(refusal(ServedTask::kRerank, "POST", r), "") << r;
  for (const char* r : {"/v1/embeddings", "/v1/chat/completions", "/v1/responses", "/tokenize"})
    EXPECT_NE(refusal(ServedTask::kRerank, "POST", r).find("is a rerank model"), std::string::npos)
        << r;
  EXPECT_EQ(refusal(ServedTask::kRerank, "GET", "/v1/models"), "");
}

TEST(ServedTask, OtherTasksRefuseRerank) {
  EXPECT_NE(refusal(ServedTask::kEmbed, "POST", "/v1/rerank").find("is an embedding model"),
            std::string::npos);
  EXPECT_EQ(refusal(ServedTask::kEmbed, "POST", "/v1/embeddings"), "");
  const std::string gen = refusal(ServedTask::kGenerate, "POST", "/rerank");
  EXPECT_NE(gen.find("text generation model"), std::string::npos) << gen;
  EXPECT_NE(gen.find("not rerank"), std::string::npos) << gen;
  EXPECT_EQ(refusal(ServedTask::kGenerate, "POST", "/v1/chat/completions"), "");
}

}  // namespace
}  // namespace sluice::api
