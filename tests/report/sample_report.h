// A report with one of everything, shaped like the demo's: run metadata, a
// results table with a privileged row and best values, a loss chart, a
// learning curve with error bars, and a grid of explanation overlays on
// synthetic fundus images. The HTML tests check its structure; the Chromium
// test renders it.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "medtex/data/fundus_synth.h"
#include "medtex/explain/overlay.h"
#include "medtex/report/report.h"

namespace medtex::test {

// Overlays for `count` synthetic fundus images of grades 1-4, 64 px, on an
// 8 x 8 grid: the k = 6 patches with the most lesion pixels are "selected",
// as a perfect explainer would, and the lesion contour is drawn.
inline std::vector<report::Figure> sample_overlays(int count) {
  const data::DomainKnobs knobs = data::domain_preset("source");
  constexpr int kSize = 64, kGrid = 8, kPatch = kSize / kGrid, kTop = 6;
  std::vector<report::Figure> figs;
  for (int i = 0; i < count; ++i) {
    const int grade = 1 + i % 4;
    const data::SynthSample s = data::render_fundus(7, i, kSize, knobs, grade);
    std::vector<float> mask(size_t(kSize) * kSize);
    std::vector<int> lesion_px(kGrid * kGrid, 0);
    for (int y = 0; y < kSize; ++y) {
      for (int x = 0; x < kSize; ++x) {
        const bool lesion = s.mask.at(x, y)[0] != 0;
        mask[size_t(y) * kSize + x] = lesion ? 1.0f : 0.0f;
        lesion_px[(y / kPatch) * kGrid + x / kPatch] += lesion;
      }
    }
    std::vector<int> order(kGrid * kGrid);
    std::iota(order.begin(), order.end(), 0);
    // Most lesion pixels first; among patches without lesions, the central
    // ones (an explainer's usual fallback), so every image shows k patches.
    auto centrality = [](int p) {
      return std::abs(p / kGrid * 2 - 7) + std::abs(p % kGrid * 2 - 7);
    };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      if (lesion_px[a] != lesion_px[b]) return lesion_px[a] > lesion_px[b];
      return centrality(a) < centrality(b);
    });
    std::vector<float> selection(kGrid * kGrid, 0.0f);
    for (int k = 0; k < kTop; ++k) selection[size_t(order[size_t(k)])] = 1.0f;
    figs.push_back({explain::draw_overlay(s.image, selection, kGrid, kGrid, mask),
                    "image " + std::to_string(i) + ", grade " + std::to_string(grade)});
  }
  return figs;
}

inline report::Report sample_report() {
  report::Report r("medtex demo <cross-domain> & friends");
  report::RunInfo info;
  info.command_line = "medtex demo --seed 1 --out 'runs/my demo' --threads 2";
  info.seed = 1;
  info.date = "2025-01-31T12:34:56Z";
  info.nproc = 2;
  info.cpu_model = "Example CPU @ 2.00GHz";
  info.versions = {{"medtex", "0.1.0"}, {"compiler", "GCC 12.2.0"}};
  info.extra = {{"device", "cpu"}, {"data", "synthetic: source -> clinic"}};
  r.set_run_info(info);

  r.section("Results");
  r.paragraph(
      "Students trained on the clinic's images with each method, evaluated on its held-out test "
      "set. Mean \xC2\xB1 sd over 3 seeds, paired by seed.\n\nA second paragraph: x < y & z.");
  report::Table t;
  t.caption = "Student accuracy on the clinic's test set (n = 100 labelled images)";
  t.headers = {"method", "accuracy", "macro-F1", "kappa", "KL to teacher"};
  t.best = {report::Table::Best::kNone, report::Table::Best::kMax, report::Table::Best::kMax,
            report::Table::Best::kMax, report::Table::Best::kMin};
  t.add_row({"scratch", report::Cell::mean_sd(0.612, 0.031), report::Cell::mean_sd(0.544, 0.040),
             report::Cell::mean_sd(0.48, 0.05), report::Cell::mean_sd(0.91, 0.08)});
  t.add_row({"kd", report::Cell::mean_sd(0.701, 0.022), report::Cell::mean_sd(0.655, 0.018),
             report::Cell::mean_sd(0.63, 0.03), report::Cell::mean_sd(0.31, 0.02)});
  t.add_row({"medtex", report::Cell::mean_sd(0.724, 0.019), report::Cell::mean_sd(0.668, 0.025),
             report::Cell::mean_sd(0.66, 0.02), report::Cell::mean_sd(0.29, 0.03)});
  t.add_row({"transfer", report::Cell::mean_sd(0.802, 0.015), report::Cell::mean_sd(0.771, 0.020),
             report::Cell::mean_sd(0.75, 0.02), report::Cell::mean_sd(0.44, 0.04)},
            /*privileged=*/true);
  r.table(t);

  r.section("Training");
  report::LineChart loss;
  loss.title = "Student loss (medtex, seed 1)";
  loss.x_label = "epoch";
  loss.y_label = "loss";
  std::vector<double> ep, tr, va;
  for (int e = 1; e <= 30; ++e) {
    ep.push_back(e);
    tr.push_back(1.6 * std::exp(-e / 8.0) + 0.25);
    va.push_back(1.5 * std::exp(-e / 10.0) + 0.42 + 0.002 * e);
  }
  loss.add("train", ep, tr);
  loss.add("validation", ep, va).dashed = true;
  r.chart(loss);

  report::LineChart lc;
  lc.title = "Learning curves";
  lc.x_label = "labelled images (log scale)";
  lc.y_label = "accuracy";
  lc.log_x = true;
  lc.y_min = 0.4;
  lc.y_max = 0.9;
  const std::vector<double> n = {25, 50, 100, 200};
  lc.add("scratch", n, {0.45, 0.52, 0.61, 0.68}, {0.04, 0.035, 0.031, 0.02});
  lc.add("kd", n, {0.60, 0.65, 0.70, 0.74}, {0.03, 0.025, 0.022, 0.02});
  lc.add("medtex", n, {0.62, 0.67, 0.72, 0.75}, {0.03, 0.02, 0.019, 0.015});
  auto& tf =
      lc.add("transfer \xE2\x80\xA0", n, {0.70, 0.75, 0.80, 0.83}, {0.02, 0.02, 0.015, 0.01});
  tf.dashed = true;
  r.chart(lc);

  r.section("Explanations");
  r.paragraph(
      "The explainer's 6 selected patches (yellow outline) on test images; the rest is darkened. "
      "Cyan: the lesion mask's contour.");
  const std::vector<report::Figure> figs = sample_overlays(8);
  r.figure_grid(figs, 4, "Selected patches, grades 1-4");
  r.subsection("Program output");
  r.preformatted("method    accuracy\nscratch   0.612\nmedtex    0.724 <best>\n");
  return r;
}

}  // namespace medtex::test
