// A tiny hand-written SVG builder for CLI reports (no libraries): a canvas that collects
// escaped elements, plus three chart helpers (line chart, bar chart, scatter) that draw axes with
// "nice" ticks, axis labels and a title inside a frame, and a legend with colour swatches.
// Thread-safety: an Svg is used by one thread.
//
//   Svg svg(900, 500);
//   DrawBarChart(svg, {60, 40, 600, 400}, chart);
//   DrawLegend(svg, 700, 60, {{"#1 high-value", Palette(0)}});
//   WriteText("out.svg", svg.Finish());  // verbs.h
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata::cli::svg {

// Categorical palette (Tableau 10, then a second lighter set); cycles for i >= 20.
std::string Palette(int i);
// Escapes &, <, >, " and ' for text and attribute values.
std::string Escape(std::string_view text);

class Svg {
 public:
  Svg(int width, int height);
  void Line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1,
            const std::string& extra = "");
  void Rect(double x, double y, double w, double h, const std::string& fill,
            const std::string& cls);
  void Circle(double cx, double cy, double r, const std::string& fill, const std::string& title);
  void Polyline(const std::vector<std::pair<double, double>>& points, const std::string& stroke,
                double width = 2);
  // anchor: start | middle | end; rotate: degrees around (x, y).
  void Text(double x, double y, std::string_view text, double size = 12,
            const std::string& anchor = "start", double rotate = 0, bool bold = false);
  // The complete document.
  std::string Finish() const;

 private:
  int width_, height_;
  std::string body_;
};

struct Frame {
  double x, y, w, h;  // the plot area (axes are drawn on its left and bottom edges)
};

struct Series {
  std::string name;
  std::string colour;
  std::vector<std::pair<double, double>> points;  // (x, y), sorted by x
};
struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
};
// A <polyline> per series with a <rect class="marker"> per point.
void DrawLineChart(Svg& svg, const Frame& f, const LineChart& chart);

struct BarChart {
  std::string title, x_label, y_label;
  std::vector<std::string> labels;  // under each bar
  std::vector<double> values;
  std::vector<std::string> colours;
};
// One <rect class="bar"> per value.
void DrawBarChart(Svg& svg, const Frame& f, const BarChart& chart);

struct ScatterPoint {
  double x, y;
  std::string colour;
  std::string title;  // tooltip
};
struct Scatter {
  std::string title, x_label, y_label;
  std::vector<ScatterPoint> points;
};
// One <circle> per point.
void DrawScatter(Svg& svg, const Frame& f, const Scatter& chart);

struct LegendItem {
  std::string label, colour;
};
// A column of <rect class="swatch"> + label, starting at (x, y).
void DrawLegend(Svg& svg, double x, double y, const std::string& title,
                const std::vector<LegendItem>& items);

}  // namespace strata::cli::svg
