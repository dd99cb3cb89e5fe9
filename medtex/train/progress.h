// Progress lines for long training runs (DESIGN §8): step, loss, images/s,
// ETA on stderr, so stdout stays free for the results table.
#pragma once

#include <string>

#include "medtex/train/trainer.h"

namespace medtex::train {

// "1m32s", "2h05m", "12.3s".
std::string format_duration(double seconds);

// One line on stderr:
//   [distill:medtex] step 120/600 (epoch 3/15) loss 0.8123 lr 9.5e-04 312 img/s ETA 1m32s
// or, at the end of an epoch,
//   [train] epoch 3/15: train loss 0.8123, val loss 0.9210, val acc 0.713 (best), 312 img/s, 41.2s
void print_progress(const Progress& p);

}  // namespace medtex::train
