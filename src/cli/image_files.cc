#include "cli/image_files.h"

#include <fstream>
#include <iterator>

#include "media/decode.h"
#include "media/normalize.h"
#include "media/resize.h"
#include "media/smart_resize.h"

namespace sluice {

Result<std::vector<ImageFile>> read_image_files(const std::vector<std::string>& paths,
                                                const VisionConfig& c, const std::string& where) {
  media::Normalization norm;
  for (int i = 0; i < 3; ++i) norm.mean[i] = c.image_mean[i], norm.stddev[i] = c.image_std[i];
  std::vector<ImageFile> files;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::error(where, path + ": cannot open");
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    auto image = media::decode_image(bytes);
    if (!image) return Status::error(where, path + ": " + image.error());
    const int side = static_cast<int>(c.image_size);
    const media::Image sized =
        c.dynamic_resolution() ? media::smart_resize(*image, {static_cast<int>(c.size_multiple()),
                                                              c.min_pixels, c.max_pixels})
                               : media::resize(*image, side, side, media::Resample::kBilinear);
    files.push_back({media::normalize_to_chw(sized, norm),
                     {sized.height, sized.width},
                     media::content_hash(*image)});
  }
  return files;
}

}  // namespace sluice
