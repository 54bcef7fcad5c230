// engine_error: every kind of engine refusal becomes one HTTP status and one error body per
// protocol, in the shapes the OpenAI and Anthropic clients parse.
#include "api/api_error.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <vector>

namespace sluice::api {
namespace {

using Json = nlohmann::ordered_json;

struct Expected {
  RequestError error;
  int status;
  Json openai, anthropic;
};

std::vector<Expected> cases() {
  return {
      {RequestError::invalid("top_p", "top_p must be in (0, 1], got 1.5"), 400,
       Json::parse(R"({"error": {"message": "top_p must be in (0, 1], got 1.5",
                                 "type": "invalid_request_error", "param": "top_p",
                                 "code": null}})"),
       Json::parse(R"({"type": "error", "error": {"type": "invalid_request_error",
                                                  "message": "top_p must be in (0, 1], got 1.5"}})")},
      {{RequestErrorKind::kUnavailable, "", "the engine is shutting down"},
       503,
       Json::parse(R"({"error": {"message": "the engine is shutting down",
                                 "type": "service_unavailable_error", "param": null,
                                 "code": "service_unavailable"}})"),
       Json::parse(R"({"type": "error", "error": {"type": "overloaded_error",
                                                  "message": "the engine is shutting down"}})")},
      {{RequestErrorKind::kInternal, "id", "duplicate request id 'x'"},
       500,
       Json::parse(R"({"error": {"message": "duplicate request id 'x'", "type": "server_error",
                                 "param": "id", "code": "internal_error"}})"),
       Json::parse(R"({"type": "error", "error": {"type": "api_error",
                                                  "message": "duplicate request id 'x'"}})")},
  };
}

TEST(ApiErrorTest, EngineErrorKindsMapToStatusAndBothBodies) {
  for (const Expected& c : cases()) {
    const ApiError e = engine_error(c.error);
    EXPECT_EQ(e.status(), c.status) << c.error.message;
    EXPECT_EQ(e.what(), c.error.message);
    EXPECT_EQ(Json::parse(error_body(e, Protocol::kOpenAI)), c.openai) << c.error.message;
    EXPECT_EQ(Json::parse(error_body(e, Protocol::kAnthropic)), c.anthropic) << c.error.message;
  }
}

TEST(ApiErrorTest, EngineFieldIsRenamedToTheRequestField) {
  const RequestError e = RequestError::invalid("prompt", "the prompt is empty");
  EXPECT_EQ(engine_error(e, "messages").param(), "messages");
  EXPECT_EQ(engine_error(e).param(), "prompt");
}

}  // namespace
}  // namespace sluice::api
