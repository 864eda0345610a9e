// strata segment report (--url URL | --events FILE): the segment table of a running service or of
// an in-process run over an event file, and an SVG plot (segment sizes; in-process also sizes over
// time and a PCA projection of customers coloured by segment).
#include <unistd.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "segment_common.h"
#include "strata/transport/http_client.h"
#include "svg.h"

namespace strata::cli::seg {
namespace {

struct ReportOptions {
  std::string url, events, format = "auto", svg, token_env = "STRATA_TOKEN";
  int64_t sample_every = 0;
  int max_points = 2000;
  bool json = false;
};

std::string Legend(const SegmentRow& r) { return "#" + std::to_string(r.id) + " " + r.label; }

std::string UrlSvg(const std::vector<SegmentRow>& rows, int64_t customers) {
  svg::Svg s(1000, 520);
  svg::BarChart chart{.title = "Segment sizes now (" + std::to_string(customers) + " customers)",
                      .x_label = "segment",
                      .y_label = "decayed weight (points)"};
  std::vector<svg::LegendItem> legend;
  for (size_t i = 0; i < rows.size(); ++i) {
    chart.labels.push_back("#" + std::to_string(rows[i].id));
    chart.values.push_back(rows[i].weight);
    chart.colours.push_back(svg::Palette(static_cast<int>(i)));
    legend.push_back({Legend(rows[i]), svg::Palette(static_cast<int>(i))});
  }
  svg::DrawBarChart(s, {90, 60, 600, 380}, chart);
  svg::DrawLegend(s, 730, 60, "Segments", legend);
  return s.Finish();
}

// Rows of the standardised feature matrix projected on its two leading principal components.
Eigen::MatrixXd Pca2(const segment::Matrix& features, double* explained) {
  Eigen::MatrixXd x = features.cast<double>();
  Eigen::RowVectorXd mean = x.colwise().mean();
  x.rowwise() -= mean;
  Eigen::RowVectorXd sd =
      (x.array().square().colwise().sum() / std::max<double>(1, x.rows() - 1)).sqrt();
  for (Eigen::Index c = 0; c < x.cols(); ++c) x.col(c) /= std::max(sd(c), 1e-6);
  Eigen::MatrixXd cov = x.transpose() * x / std::max<double>(1, x.rows() - 1);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  const Eigen::Index d = cov.rows();
  Eigen::MatrixXd basis(d, 2);
  basis.col(0) = eig.eigenvectors().col(d - 1);
  basis.col(1) = eig.eigenvectors().col(d - 2);
  double total = eig.eigenvalues().sum();
  *explained = total > 0 ? (eig.eigenvalues()(d - 1) + eig.eigenvalues()(d - 2)) / total : 0;
  return x * basis;
}

std::string EventsSvg(const InProcessRun& run, const std::vector<SegmentRow>& rows, int max_points,
                      int* plotted) {
  // One colour per segment id, in order of first appearance (samples, then the final model).
  std::map<uint32_t, int> colour;
  std::map<uint32_t, std::string> label;
  for (const auto& sample : run.samples)
    for (const auto& [id, n] : sample.sizes) colour.emplace(id, static_cast<int>(colour.size()));
  for (const auto& r : rows)
    colour.emplace(r.id, static_cast<int>(colour.size())), label[r.id] = Legend(r);
  svg::Svg s(1000, 940);
  svg::LineChart sizes{.title = "Segment sizes over the replay",
                       .x_label = "events processed",
                       .y_label = "customers in segment"};
  for (const auto& [id, c] : colour) {
    svg::Series series{.name = "#" + std::to_string(id), .colour = svg::Palette(c)};
    for (const auto& sample : run.samples)
      for (const auto& [sid, n] : sample.sizes)
        if (sid == id)
          series.points.emplace_back(static_cast<double>(sample.events), static_cast<double>(n));
    sizes.series.push_back(std::move(series));
  }
  svg::DrawLineChart(s, {90, 60, 640, 320}, sizes);
  int64_t with_model = std::count_if(run.samples.begin(), run.samples.end(),
                                     [](const SizeSample& x) { return !x.sizes.empty(); });
  if (with_model < 2)
    s.Text(410, 220,
           "the model was seeded only at the end of this file (too few events for a history)", 12,
           "middle");
  std::vector<svg::LegendItem> legend;
  for (const auto& [id, c] : colour)
    legend.push_back(
        {label.count(id) ? label[id] : "#" + std::to_string(id) + " (gone)", svg::Palette(c)});
  svg::DrawLegend(s, 760, 60, "Segments", legend);

  const auto& seg = *run.segmenter;
  const int64_t n = static_cast<int64_t>(seg.profiles().size());
  svg::Scatter scatter{.x_label = "principal component 1", .y_label = "principal component 2"};
  double explained = 0;
  if (n >= 2) {
    Eigen::MatrixXd p = Pca2(seg.FeatureMatrix(seg.newest()), &explained);
    const int64_t stride = std::max<int64_t>(1, (n + max_points - 1) / max_points);
    const segment::Assigner* a = seg.assigner();
    for (int64_t i = 0; i < n; i += stride) {
      int j = i < static_cast<int64_t>(run.assignment.size()) ? run.assignment[i] : -1;
      uint32_t id = a && j >= 0 ? a->model().ids[j] : 0;
      std::string tip = std::string(seg.profiles().customer_id(static_cast<uint32_t>(i))) +
                        (j >= 0 ? " #" + std::to_string(id) : "");
      scatter.points.push_back(
          {p(i, 0), p(i, 1), j >= 0 ? svg::Palette(colour[id]) : "#999999", tip});
    }
  }
  char title[160];
  std::snprintf(title, sizeof(title),
                "Customers: PCA of standardised features (%zu of %lld shown, %.0f%% variance)",
                scatter.points.size(), static_cast<long long>(n), 100 * explained);
  scatter.title = title;
  svg::DrawScatter(s, {90, 520, 640, 360}, scatter);
  *plotted = static_cast<int>(scatter.points.size());
  return s.Finish();
}

int ReportUrl(const ReportOptions& o, nlohmann::json* out, std::vector<SegmentRow>* rows) {
  const char* token = std::getenv(o.token_env.c_str());
  auto client = http::HttpClient::Create({.base_url = o.url,
                                          .max_retries = 1,
                                          .token = token ? token : "",
                                          .link_src = "report",
                                          .link_dst = "segment"});
  if (!client.ok()) return Fail(client.status().message(), 2);
  auto r = (*client)->Get("/api/v1/segments");
  if (!r.ok()) return Fail("GET " + o.url + "/api/v1/segments: " + r.status().message(), 1);
  if (r->status != 200)
    return Fail("GET " + o.url + "/api/v1/segments: " + r->ToStatus().message(), 1);
  auto body = r->Json();
  if (!body.ok() || !body->contains("items"))
    return Fail(o.url + " did not answer a segment list", 1);
  *rows = TableFromServiceJson((*body)["items"]);
  (*out)["customers"] = body->value("customers", int64_t{0});
  (*out)["model_version"] = body->value("model_version", uint64_t{0});
  if (!o.svg.empty()) {
    Status s = WriteText(o.svg, UrlSvg(*rows, (*out)["customers"].get<int64_t>()));
    if (!s.ok()) return Fail(s.message(), 1);
    (*out)["plotted_points"] = rows->size();
  }
  return 0;
}

int ReportEvents(const ReportOptions& o, nlohmann::json* out, std::vector<SegmentRow>* rows) {
  auto loaded = LoadEvents(o.events, o.format);
  if (!loaded.ok()) return Fail(loaded.status().message(), LoadFailureExitCode(loaded.status()));
  const int64_t n = static_cast<int64_t>(loaded->events.size());
  const int64_t every = o.sample_every > 0 ? o.sample_every : std::max<int64_t>(200, n / 40);
  auto run = RunInProcess(loaded->events, {.sample_every = o.svg.empty() ? 0 : every,
                                           .progress = static_cast<bool>(isatty(STDERR_FILENO))});
  if (!run.ok()) return Fail(run.status().message(), 1);
  *rows = TableOf(*run);
  const segment::Assigner* a = run->segmenter->assigner();
  (*out)["customers"] = run->segmenter->profiles().size();
  (*out)["model_version"] = a ? a->model().version : 0;
  (*out)["events"] = n;
  if (!o.svg.empty()) {
    int plotted = 0;
    Status s = WriteText(o.svg, EventsSvg(*run, *rows, o.max_points, &plotted));
    if (!s.ok()) return Fail(s.message(), 1);
    (*out)["plotted_points"] = plotted;
    (*out)["samples"] = run->samples.size();
  }
  return 0;
}

int Report(const ReportOptions& o) {
  if (o.url.empty() == o.events.empty())
    return Fail("segment report: give exactly one of --url or --events", 2);
  nlohmann::json out = {{"source", o.url.empty() ? o.events : o.url}};
  std::vector<SegmentRow> rows;
  int rc = o.url.empty() ? ReportEvents(o, &out, &rows) : ReportUrl(o, &out, &rows);
  if (rc != 0) return rc;
  out["svg"] = o.svg.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.svg);
  out["segments"] = TableJson(rows);
  if (o.json) {
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("%s: %lld customers, model version %llu, %zu segments\n",
              out["source"].get<std::string>().c_str(), static_cast<long long>(out["customers"]),
              static_cast<unsigned long long>(out["model_version"]), rows.size());
  PrintTable(rows);
  if (!o.svg.empty()) std::printf("plot: %s\n", o.svg.c_str());
  return 0;
}

}  // namespace

void AddReport(CLI::App& segment, Context& ctx) {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = segment.add_subcommand(
      "report",
      "Print the segment table of a service (--url) or of an in-process run over an event "
      "file (--events), optionally with an SVG plot");
  cmd->option_defaults()->always_capture_default();
  auto* url = cmd->add_option("--url", o->url, "Segment service base URL (GET /api/v1/segments)");
  auto* events =
      cmd->add_option("--events", o->events, "Event file (uci|cdnow|ndjson) to run in-process");
  url->excludes(events);
  cmd->add_option("--format", o->format, "Format of --events: auto|uci|cdnow|ndjson")
      ->check(CLI::IsMember({"auto", "uci", "cdnow", "ndjson"}));
  cmd->add_option(
      "--svg", o->svg,
      "Write a plot: --url: bar chart of current sizes; --events: sizes over time and a PCA "
      "projection of customers coloured by segment");
  cmd->add_option("--sample-every", o->sample_every,
                  "Events between size samples; 0 = max(200, events/40)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--max-points", o->max_points, "Customers plotted at most in the projection")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--token-env", o->token_env, "Environment variable holding the bearer token");
  cmd->add_flag("--json", o->json, "Machine-readable output");
  cmd->callback([&ctx, o] { ctx.action = [o] { return Report(*o); }; });
}

}  // namespace strata::cli::seg
