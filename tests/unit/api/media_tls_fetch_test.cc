// https through the pinned client: TLS to an in-process server with a fresh self-signed
// certificate fails verification (it is on), and so does TLS to a plain-HTTP port.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <thread>

#include "api/media/media_fetch.h"

namespace sluice::api {
namespace {

// A P-256 key and a one-day self-signed certificate for CN=localhost.
struct SelfSigned {
  SelfSigned() {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
  }
  ~SelfSigned() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

TEST(MediaTlsFetch, RefusesACertificateThatDoesNotVerify) {
  SelfSigned identity;
  httplib::SSLServer server(identity.cert, identity.key);
  ASSERT_TRUE(server.is_valid());
  server.Get("/image.png", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("\x89PNG", "image/png");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  MediaFetchOptions o;
  std::string error;
  o.allowed_hosts = *HostAllowList::parse({"localhost", "127.0.0.1"}, &error);
  o.timeout_s = 5;
  for (const char* host : {"localhost", "127.0.0.1"}) {
    const std::string url =
        "https://" + std::string(host) + ":" + std::to_string(port) + "/image.png";
    const MediaFetchResult r = fetch_media(url, o);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().kind, MediaFetchErrorKind::kNetwork) << r.error().message;
    EXPECT_EQ(r.error().message,
              "fetching " + url + ": the server's TLS certificate did not verify");
  }
  server.stop();
  thread.join();
}

}  // namespace
}  // namespace sluice::api
