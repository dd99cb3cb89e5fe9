#include "medtex/train/progress.h"

#include <cmath>
#include <cstdio>

namespace medtex::train {

std::string format_duration(double seconds) {
  char buf[64];
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else if (seconds < 3600) {
    const long s = std::lround(seconds);
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    const long m = std::lround(seconds / 60);
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", m / 60, m % 60);
  }
  return buf;
}

void print_progress(const Progress& p) {
  if (!p.epoch_end) {
    std::fprintf(stderr,
                 "[%s] step %lld/%lld (epoch %lld/%lld) loss %.4f lr %.2e %.0f img/s ETA %s\n",
                 p.tag.c_str(), (long long)p.step, (long long)p.total_steps, (long long)p.epoch,
                 (long long)p.epochs, p.loss, p.lr, p.images_per_second,
                 format_duration(p.eta_seconds).c_str());
    return;
  }
  const EpochRecord* e = p.record;
  std::string val;
  if (e != nullptr && e->has_val) {
    char buf[160];
    std::snprintf(buf, sizeof buf, ", val loss %.4f, val score %.3f%s", e->val_loss,
                  e->val_accuracy, p.best ? " (best)" : "");
    val = buf;
  }
  std::fprintf(
      stderr, "[%s] epoch %lld/%lld (step %lld/%lld): train loss %.4f%s, %.0f img/s, %s, ETA %s\n",
      p.tag.c_str(), (long long)p.epoch, (long long)p.epochs, (long long)p.step,
      (long long)p.total_steps, p.loss, val.c_str(), p.images_per_second,
      e ? format_duration(e->seconds).c_str() : "", format_duration(p.eta_seconds).c_str());
  std::fflush(stderr);
}

}  // namespace medtex::train
