#include "cli/image_files.h"

#include <fstream>
#include <iterator>

#include "api/media/image_loader.h"
#include "media/decode.h"

namespace sluice {

Result<media::Image> decode_image_file(const std::string& path, const std::string& where) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(where, path + ": cannot open");
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  auto image = media::decode_image(bytes);
  if (!image) return Status::error(where, path + ": " + image.error());
  return image;
}

Result<std::vector<ImageFile>> read_image_files(const std::vector<std::string>& paths,
                                                const VisionConfig& c, const std::string& where) {
  std::vector<ImageFile> files;
  for (const std::string& path : paths) {
    auto image = decode_image_file(path, where);
    if (!image) return image.status();
    const media::ContentHash hash = media::content_hash(*image);
    api::ProcessedImage p = api::process_image(c, std::move(*image));
    files.push_back({std::move(p.pixels), {p.height, p.width}, hash});
  }
  return files;
}

}  // namespace sluice
