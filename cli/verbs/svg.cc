#include "svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace strata::cli::svg {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

std::string TickLabel(double v) {
  if (std::fabs(v) < 1e-12) v = 0;
  char buf[32];
  if (std::fabs(v) >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.3gM", v / 1e6);
  } else if (std::fabs(v) >= 1e4) {
    std::snprintf(buf, sizeof(buf), "%.4gk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.4g", v);
  }
  return buf;
}

// A 1/2/5 x 10^n step giving about `count` intervals over [lo, hi].
double NiceStep(double lo, double hi, int count) {
  double raw = (hi - lo) / count;
  if (!(raw > 0)) return 1;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double r = raw / mag;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // Extends to whole ticks; guards empty and zero-width ranges.
  double Nice(int count) {
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
    double step = NiceStep(lo, hi, count);
    lo = std::floor(lo / step) * step;
    hi = std::ceil(hi / step) * step;
    return step;
  }
};

struct Axes {
  const Frame& f;
  Range x, y;
  double X(double v) const { return f.x + (v - x.lo) / (x.hi - x.lo) * f.w; }
  double Y(double v) const { return f.y + f.h - (v - y.lo) / (y.hi - y.lo) * f.h; }
};

void DrawAxes(Svg& svg, Axes& a, double x_step, double y_step, const std::string& title,
              const std::string& x_label, const std::string& y_label, bool x_ticks = true) {
  const Frame& f = a.f;
  svg.Text(f.x + f.w / 2, f.y - 12, title, 15, "middle", 0, true);
  for (double v = a.y.lo; v <= a.y.hi + y_step * 1e-6; v += y_step) {
    double py = a.Y(v);
    svg.Line(f.x, py, f.x + f.w, py, "#e5e5e5");
    svg.Text(f.x - 6, py + 4, TickLabel(v), 11, "end");
  }
  if (x_ticks) {
    for (double v = a.x.lo; v <= a.x.hi + x_step * 1e-6; v += x_step) {
      double px = a.X(v);
      svg.Line(px, f.y + f.h, px, f.y + f.h + 5, "#333");
      svg.Text(px, f.y + f.h + 18, TickLabel(v), 11, "middle");
    }
  }
  svg.Line(f.x, f.y + f.h, f.x + f.w, f.y + f.h, "#333", 1.2);
  svg.Line(f.x, f.y, f.x, f.y + f.h, "#333", 1.2);
  svg.Text(f.x + f.w / 2, f.y + f.h + 38, x_label, 12, "middle");
  svg.Text(f.x - 48, f.y + f.h / 2, y_label, 12, "middle", -90);
}

}  // namespace

std::string Palette(int i) {
  static const char* kColours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                   "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
                                   "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d",
                                   "#f1ce63", "#d4a6c8", "#fabfd2", "#d7b5a6", "#79706e"};
  return kColours[((i % 20) + 20) % 20];
}

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Svg::Svg(int width, int height) : width_(width), height_(height) {}

void Svg::Line(double x1, double y1, double x2, double y2, const std::string& stroke, double width,
               const std::string& extra) {
  body_ += "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" +
           Num(y2) + "\" stroke=\"" + stroke + "\" stroke-width=\"" + Num(width) + "\"" + extra +
           "/>\n";
}

void Svg::Rect(double x, double y, double w, double h, const std::string& fill,
               const std::string& cls) {
  body_ += "<rect class=\"" + cls + "\" x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" width=\"" +
           Num(w) + "\" height=\"" + Num(h) + "\" fill=\"" + fill + "\"/>\n";
}

void Svg::Circle(double cx, double cy, double r, const std::string& fill,
                 const std::string& title) {
  body_ += "<circle cx=\"" + Num(cx) + "\" cy=\"" + Num(cy) + "\" r=\"" + Num(r) + "\" fill=\"" +
           fill + "\" fill-opacity=\"0.7\">";
  if (!title.empty()) body_ += "<title>" + Escape(title) + "</title>";
  body_ += "</circle>\n";
}

void Svg::Polyline(const std::vector<std::pair<double, double>>& points, const std::string& stroke,
                   double width) {
  if (points.empty()) return;
  body_ += "<polyline fill=\"none\" stroke=\"" + stroke + "\" stroke-width=\"" + Num(width) +
           "\" points=\"";
  for (const auto& [x, y] : points) body_ += Num(x) + "," + Num(y) + " ";
  body_ += "\"/>\n";
}

void Svg::Text(double x, double y, std::string_view text, double size, const std::string& anchor,
               double rotate, bool bold) {
  body_ += "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" font-size=\"" + Num(size) +
           "\" text-anchor=\"" + anchor + "\"";
  if (bold) body_ += " font-weight=\"bold\"";
  if (rotate != 0)
    body_ += " transform=\"rotate(" + Num(rotate) + " " + Num(x) + " " + Num(y) + ")\"";
  body_ += ">" + Escape(text) + "</text>\n";
}

std::string Svg::Finish() const {
  std::string w = std::to_string(width_), h = std::to_string(height_);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h +
         "\" viewBox=\"0 0 " + w + " " + h +
         "\" font-family=\"Helvetica, Arial, sans-serif\" style=\"background:#ffffff\">\n" + body_ +
         "</svg>\n";
}

void DrawLineChart(Svg& svg, const Frame& f, const LineChart& chart) {
  Axes a{f};
  a.y.Add(0);
  for (const auto& s : chart.series)
    for (const auto& [x, y] : s.points) a.x.Add(x), a.y.Add(y);
  double xs = a.x.Nice(6), ys = a.y.Nice(5);
  DrawAxes(svg, a, xs, ys, chart.title, chart.x_label, chart.y_label);
  for (const auto& s : chart.series) {
    std::vector<std::pair<double, double>> px;
    for (const auto& [x, y] : s.points) px.emplace_back(a.X(x), a.Y(y));
    svg.Polyline(px, s.colour);
    for (const auto& [x, y] : px) svg.Rect(x - 2.5, y - 2.5, 5, 5, s.colour, "marker");
  }
}

void DrawBarChart(Svg& svg, const Frame& f, const BarChart& chart) {
  Axes a{f};
  a.x.Add(0);
  a.x.Add(1);
  a.y.Add(0);
  for (double v : chart.values) a.y.Add(v);
  double ys = a.y.Nice(5);
  DrawAxes(svg, a, 1, ys, chart.title, chart.x_label, chart.y_label, /*x_ticks=*/false);
  const size_t n = chart.values.size();
  if (n == 0) {
    svg.Text(f.x + f.w / 2, f.y + f.h / 2, "no segments yet (model warming up)", 13, "middle");
    return;
  }
  const double slot = f.w / static_cast<double>(n), bar = slot * 0.7;
  for (size_t i = 0; i < n; ++i) {
    double x = f.x + slot * static_cast<double>(i) + (slot - bar) / 2;
    double top = a.Y(chart.values[i]);
    svg.Rect(x, top, bar, f.y + f.h - top, chart.colours[i], "bar");
    svg.Text(x + bar / 2, f.y + f.h + 16, chart.labels[i], 11, "middle");
    svg.Text(x + bar / 2, top - 4, TickLabel(chart.values[i]), 10, "middle");
  }
}

void DrawScatter(Svg& svg, const Frame& f, const Scatter& chart) {
  Axes a{f};
  for (const auto& p : chart.points) a.x.Add(p.x), a.y.Add(p.y);
  double xs = a.x.Nice(6), ys = a.y.Nice(5);
  DrawAxes(svg, a, xs, ys, chart.title, chart.x_label, chart.y_label);
  for (const auto& p : chart.points) svg.Circle(a.X(p.x), a.Y(p.y), 2.5, p.colour, p.title);
}

void DrawLegend(Svg& svg, double x, double y, const std::string& title,
                const std::vector<LegendItem>& items) {
  svg.Text(x, y, title, 13, "start", 0, true);
  for (size_t i = 0; i < items.size(); ++i) {
    double row = y + 20 + 20 * static_cast<double>(i);
    svg.Rect(x, row - 10, 12, 12, items[i].colour, "swatch");
    svg.Text(x + 18, row, items[i].label, 12);
  }
}

}  // namespace strata::cli::svg
