#include "harness/journal_copy.h"

namespace quire::harness {

JournalCopy::JournalCopy(const sim::DiskImage& image) : disk_(image_, model_, rng_, nullptr) {
  image_.directories() = image.directories();
  for (const auto& [path, file] : image.files()) {
    auto copy = std::make_shared<sim::FileImage>();
    copy->durable = file->current;
    copy->current = file->current;
    image_.files()[path] = std::move(copy);
  }
}

Result<std::unique_ptr<JournalCopy>> JournalCopy::open(const sim::DiskImage& image,
                                                       const store::JournalOptions& options) {
  std::unique_ptr<JournalCopy> copy(new JournalCopy(image));
  QUIRE_TRY_ASSIGN(copy->journal_, store::Journal::open(copy->disk_, options));
  return copy;
}

}  // namespace quire::harness
