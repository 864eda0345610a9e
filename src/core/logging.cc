#include "strata/core/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "strata/core/clock.h"

namespace strata {
namespace {

// Writes each record as one JSON object per line to stderr.
class JsonStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    nlohmann::json j;
    j["ts"] = FormatRfc3339(msg.time);
    j["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                             spdlog::level::to_string_view(msg.level).size());
    j["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    j["msg"] = std::string(msg.payload.data(), msg.payload.size());
    j["thread"] = msg.thread_id;
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

Status InitLogging(const LogOptions& options) {
  auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off")
    return InvalidArgumentError("unknown log level '" + options.level +
                                "' (use trace, debug, info, warn, error, critical, off)");
  std::shared_ptr<spdlog::logger> logger;
  if (options.format == "json") {
    logger = std::make_shared<spdlog::logger>(options.name, std::make_shared<JsonStderrSink>());
  } else if (options.format == "text") {
    logger = std::make_shared<spdlog::logger>(
        options.name, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [%n] %v", spdlog::pattern_time_type::utc);
  } else {
    return InvalidArgumentError("unknown log format '" + options.format + "' (use text or json)");
  }
  logger->set_level(level);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

}  // namespace strata
