// file:// images: refused without --media-path; inside it only regular files whose real path
// (symlinks and '..' resolved) stays inside; a link out of it is refused like a path out of it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "api/media/file_fetch.h"
#include "api/media/media_fetch.h"

namespace sluice::api {
namespace {

namespace fs = std::filesystem;
using Kind = MediaFetchErrorKind;

const std::string kImage = "\x89PNG\r\n\x1a\n image bytes";

// <tmp>/media/{cat.png, my cat.png, sub/, inner -> cat.png, escape -> ../outside/secret.png,
// up -> ..}, <tmp>/outside/secret.png, <tmp>/media-link -> media
class MediaDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "sluice-media-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    media_ = root_ / "media";
    fs::create_directories(media_ / "sub");
    fs::create_directories(root_ / "outside");
    write(media_ / "cat.png", kImage);
    write(media_ / "my cat.png", kImage);
    write(root_ / "outside" / "secret.png", "secret");
    fs::create_symlink("cat.png", media_ / "inner");
    fs::create_symlink("../outside/secret.png", media_ / "escape");
    fs::create_symlink("..", media_ / "up");
    fs::create_directory_symlink(media_, root_ / "media-link");
    options_.media_path = media_.string();
  }
  void TearDown() override { fs::remove_all(root_); }

  static void write(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
  }
  std::string url(const fs::path& p) const { return "file://" + p.string(); }
  MediaFetchResult fetch(const std::string& u) const { return fetch_media(u, options_); }

  fs::path root_, media_;
  MediaFetchOptions options_;
};

TEST_F(MediaDir, ReadsFilesInside) {
  for (const std::string& u :
       {url(media_ / "cat.png"), "file://localhost" + (media_ / "cat.png").string(),
        url(media_ / "my%20cat.png"), url(media_ / "sub" / ".." / "cat.png"), url(media_ / "inner"),
        url(media_ / "cat.png") + "#frag"}) {
    const MediaFetchResult r = fetch(u);
    ASSERT_TRUE(r.ok()) << u << ": " << r.error().message;
    EXPECT_EQ(std::string(r.bytes().begin(), r.bytes().end()), kImage) << u;
  }
}

TEST_F(MediaDir, ReadsThroughALinkedMediaPath) {
  options_.media_path = (root_ / "media-link").string();
  EXPECT_TRUE(fetch(url(media_ / "cat.png")).ok());
  EXPECT_TRUE(fetch(url(root_ / "media-link" / "cat.png")).ok());
}

TEST_F(MediaDir, RefusesPathsOutside) {
  for (const std::string& u :
       {url(root_ / "outside" / "secret.png"), url(media_ / ".." / "outside" / "secret.png"),
        url(media_ / "escape"), url(media_ / "up" / "outside" / "secret.png"),
        url(media_ / "sub" / ".." / ".." / "outside" / "missing.png"), url("/etc/passwd"),
        url(media_.string() + "x/cat.png")}) {
    const MediaFetchResult r = fetch(u);
    ASSERT_FALSE(r.ok()) << u;
    EXPECT_EQ(r.error().kind, Kind::kFileNotAllowed) << u << ": " << r.error().message;
    EXPECT_NE(r.error().message.find("outside --media-path"), std::string::npos);
  }
}

TEST_F(MediaDir, RefusesEveryFileWithoutAMediaPath) {
  options_.media_path.clear();
  const MediaFetchResult r = fetch(url(media_ / "cat.png"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kFileNotAllowed);
  EXPECT_NE(r.error().message.find("no --media-path"), std::string::npos);
}

TEST_F(MediaDir, RefusesWhatIsNotAReadableFile) {
  struct Case {
    std::string url;
    Kind kind;
  };
  ASSERT_EQ(::mkfifo((media_ / "fifo").c_str(), 0600), 0);
  for (const Case& c :
       {Case{url(media_ / "missing.png"), Kind::kFileUnreadable},
        Case{url(media_ / "sub"), Kind::kFileUnreadable},
        Case{url(media_ / "fifo"), Kind::kFileUnreadable},
        Case{"file://otherhost" + (media_ / "cat.png").string(), Kind::kBadUrl},
        Case{"file:cat.png", Kind::kBadUrl}, Case{url(media_ / "cat%00.png"), Kind::kBadUrl},
        Case{url(media_ / "cat%zz.png"), Kind::kBadUrl}}) {
    const MediaFetchResult r = fetch(c.url);
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_EQ(r.error().kind, c.kind) << c.url << ": " << r.error().message;
  }
}

TEST_F(MediaDir, CapsTheFileSize) {
  options_.max_bytes = kImage.size();
  EXPECT_TRUE(fetch(url(media_ / "cat.png")).ok());
  options_.max_bytes = kImage.size() - 1;
  const MediaFetchResult r = fetch(url(media_ / "cat.png"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kTooLarge);
}

}  // namespace
}  // namespace sluice::api
