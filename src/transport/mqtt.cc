#include "strata/transport/mqtt.h"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "strata/transport/link_meter.h"

namespace strata::mqtt {

bool TopicMatches(std::string_view filter, std::string_view topic) {
  size_t f = 0, t = 0;
  while (f < filter.size()) {
    size_t fe = filter.find('/', f);
    if (fe == std::string_view::npos) fe = filter.size();
    std::string_view level = filter.substr(f, fe - f);
    if (level == "#") return true;
    if (t > topic.size()) return false;
    size_t te = topic.find('/', t);
    if (te == std::string_view::npos) te = topic.size();
    if (level != "+" && level != topic.substr(t, te - t)) return false;
    f = fe + 1;
    t = te + 1;
    if (fe == filter.size()) return te == topic.size();
  }
  return t > topic.size();
}

namespace {
// True while this thread runs an inline handler inside paho's message-arrived callback.
thread_local bool in_paho_callback = false;
}  // namespace

struct MqttClient::Impl : public virtual ::mqtt::callback {
  struct Sub {
    std::string filter;
    int qos;
    MessageHandler handler;
    bool inline_;
  };

  Config config;
  std::unique_ptr<::mqtt::async_client> client;
  ::mqtt::connect_options options;

  std::mutex mu;  // guards everything below
  std::condition_variable cv, space_cv;
  std::deque<std::function<void()>> tasks;
  std::vector<Sub> subs;
  bool stopping = false;
  std::thread dispatcher;
  std::atomic<int> connects{0};
  std::atomic<bool> is_up{false};
  std::string tls_error;  // last TLS error reported by paho (guarded by mu)

  void Post(std::function<void()> task, bool bounded) {
    std::unique_lock lock(mu);
    if (bounded)
      space_cv.wait(lock, [&] { return tasks.size() < config.max_pending_messages || stopping; });
    if (stopping) return;
    tasks.push_back(std::move(task));
    cv.notify_one();
  }

  void Loop() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !tasks.empty(); });
        if (stopping) return;
        task = std::move(tasks.front());
        tasks.pop_front();
        space_cv.notify_one();
      }
      task();
    }
  }

  void Resubscribe() {
    std::vector<std::pair<std::string, int>> filters;
    {
      std::lock_guard lock(mu);
      for (auto& sub : subs) filters.emplace_back(sub.filter, sub.qos);
    }
    for (auto& [f, qos] : filters) {
      try {
        client->subscribe(f, qos)->wait_for(config.op_timeout);
      } catch (const ::mqtt::exception& e) {
        spdlog::warn("mqtt {}: resubscribe to '{}' failed: {}", config.client_id, f, e.what());
      }
    }
  }

  // paho callbacks: never call the client from here; hand work to the dispatcher.
  void connected(const std::string&) override {
    connected_flag(true);
    connects++;
    Post([this] { Resubscribe(); }, false);
  }
  void connection_lost(const std::string& cause) override {
    connected_flag(false);
    spdlog::warn("mqtt {}: connection lost{}{}", config.client_id, cause.empty() ? "" : ": ",
                 cause);
  }
  std::vector<MessageHandler> Handlers(const std::string& topic, bool inline_) {
    std::lock_guard lock(mu);
    std::vector<MessageHandler> handlers;
    for (auto& sub : subs)
      if (sub.inline_ == inline_ && TopicMatches(sub.filter, topic)) handlers.push_back(sub.handler);
    return handlers;
  }
  static void Run(const std::vector<MessageHandler>& handlers, const Message& m) {
    for (auto& h : handlers) {
      try {
        h(m);
      } catch (const std::exception& e) {
        spdlog::error("mqtt handler for '{}' threw: {}", m.topic, e.what());
      }
    }
  }
  void message_arrived(::mqtt::const_message_ptr msg) override {
    Message m{msg->get_topic(), msg->to_string(), msg->get_qos(), msg->is_retained()};
    // Inline handlers first, on this (paho's) thread: paho reads the next packet only after
    // this callback returns.
    std::vector<MessageHandler> now = Handlers(m.topic, true);
    if (!now.empty()) {
      in_paho_callback = true;
      Run(now, m);
      in_paho_callback = false;
    }
    bool queued;
    {
      std::lock_guard lock(mu);
      queued = std::any_of(subs.begin(), subs.end(), [&](const Sub& sub) {
        return !sub.inline_ && TopicMatches(sub.filter, m.topic);
      });
    }
    if (!queued) return;
    Post([this, m = std::move(m)] { Run(Handlers(m.topic, false), m); }, true);
  }
  void connected_flag(bool v) { is_up = v; }
};

MqttClient::MqttClient() : impl_(std::make_unique<Impl>()) {}

MqttClient::~MqttClient() {
  Disconnect();
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->space_cv.notify_all();
  if (impl_->dispatcher.joinable()) impl_->dispatcher.join();
}

Result<std::unique_ptr<MqttClient>> MqttClient::Create(const Config& config) {
  if (config.uri.rfind("tcp://", 0) != 0 && config.uri.rfind("ssl://", 0) != 0 &&
      config.uri.rfind("mqtt://", 0) != 0 && config.uri.rfind("mqtts://", 0) != 0)
    return InvalidArgumentError("MQTT uri must start with tcp:// or ssl://, got '" + config.uri +
                                "'");
  if (config.reconnect_min_s < 1 || config.reconnect_max_s < config.reconnect_min_s)
    return InvalidArgumentError("reconnect backoff must satisfy 1 <= min <= max seconds");
  std::unique_ptr<MqttClient> c(new MqttClient());
  Impl& impl = *c->impl_;
  impl.config = config;
  // paho wants ssl:// and tcp://; accept the mqtts:// and mqtt:// spellings too.
  if (config.uri.rfind("mqtts://", 0) == 0) impl.config.uri = "ssl://" + config.uri.substr(8);
  if (config.uri.rfind("mqtt://", 0) == 0) impl.config.uri = "tcp://" + config.uri.substr(7);
  const bool tls = impl.config.uri.rfind("ssl://", 0) == 0;
  if (!tls && (!config.ca_file.empty() || !config.cert_file.empty() || !config.key_file.empty()))
    return InvalidArgumentError("MQTT ca_file/cert_file/key_file need an ssl:// or mqtts:// "
                                "uri, got '" + config.uri + "'");
  if (config.cert_file.empty() != config.key_file.empty())
    return InvalidArgumentError("MQTT cert_file and key_file go together");
  if (impl.config.client_id.empty()) {
    std::random_device rd;
    impl.config.client_id = "strata-" + std::to_string(rd()) + std::to_string(rd());
  }
  try {
    impl.client = std::make_unique<::mqtt::async_client>(impl.config.uri, impl.config.client_id);
  } catch (const ::mqtt::exception& e) {
    return InvalidArgumentError("cannot create MQTT client for '" + config.uri + "': " + e.what());
  }
  auto b = ::mqtt::connect_options_builder()
               .clean_session(config.clean_session)
               .mqtt_version(MQTTVERSION_3_1_1)  // no silent 3.1 fallback: a refusal is final
               .keep_alive_interval(std::chrono::seconds(config.keep_alive_s))
               .connect_timeout(std::chrono::milliseconds(config.op_timeout))
               .automatic_reconnect(std::chrono::seconds(config.reconnect_min_s),
                                    std::chrono::seconds(config.reconnect_max_s));
  if (!config.username.empty()) b.user_name(config.username).password(config.password);
  if (tls) {
    auto ssl = ::mqtt::ssl_options_builder();
    ssl.enable_server_cert_auth(true).verify(true).error_handler(
        [&impl](const std::string& msg) {
          std::lock_guard lock(impl.mu);
          impl.tls_error = msg.substr(0, msg.find_last_not_of(" \r\n") + 1);
        });
    if (!config.ca_file.empty()) ssl.trust_store(config.ca_file);
    if (!config.cert_file.empty()) ssl.key_store(config.cert_file).private_key(config.key_file);
    b.ssl(ssl.finalize());
  }
  if (!config.will_topic.empty())
    b.will(::mqtt::message(config.will_topic, config.will_payload, 1, config.will_retained));
  impl.options = b.finalize();
  impl.client->set_callback(impl);
  impl.dispatcher = std::thread([&impl] { impl.Loop(); });
  return c;
}

Status MqttClient::Connect(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  auto backoff = std::chrono::milliseconds(100);
  std::string last;
  while (true) {
    try {
      auto tok = impl_->client->connect(impl_->options);
      // Wait for this attempt up to the whole remaining deadline (at least op_timeout): paho
      // fails it itself after connect_timeout, but a CONNACK it has not picked up yet (its
      // receive thread polls about once a second) must not be abandoned and retried.
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (tok->wait_for(std::max(impl_->config.op_timeout, left))) {
        // The connected() callback may run after the token completes; callers may publish now.
        impl_->is_up = true;
        return Status::Ok();
      }
      last = "timed out";
    } catch (const ::mqtt::exception& e) {
      last = e.what();
      if (e.get_reason_code() == 4 || e.get_reason_code() == 5 ||
          e.get_return_code() == 4 || e.get_return_code() == 5)
        return UnauthenticatedError("MQTT broker " + impl_->config.uri +
                                    " refused the credentials");
    }
    if (std::chrono::steady_clock::now() + backoff > until) break;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
  std::string tls_error;
  {
    std::lock_guard lock(impl_->mu);
    tls_error = impl_->tls_error;
  }
  if (!tls_error.empty()) last += " (TLS: " + tls_error + ")";
  return UnavailableError("cannot connect to MQTT broker " + impl_->config.uri + ": " + last);
}

Status MqttClient::Publish(const std::string& topic, const std::string& payload, int qos,
                           bool retained) {
  if (qos < 0 || qos > 1) return InvalidArgumentError("QoS must be 0 or 1");
  if (topic.empty() || topic.find_first_of("+#") != std::string::npos)
    return InvalidArgumentError("invalid publish topic '" + topic + "'");
  if (!impl_->is_up) return UnavailableError("MQTT client is not connected");
  if (in_paho_callback) {  // never call paho from its own callback: publish from the dispatcher
    impl_->Post(
        [this, topic, payload, qos, retained] {
          Status s = Publish(topic, payload, qos, retained);
          if (!s.ok()) spdlog::warn("mqtt deferred publish to '{}' failed: {}", topic, s.message());
        },
        false);
    return Status::Ok();
  }
  auto start = std::chrono::steady_clock::now();
  try {
    auto tok = impl_->client->publish(topic, payload.data(), payload.size(), qos, retained);
    if (qos > 0 && !tok->wait_for(impl_->config.op_timeout))
      return DeadlineExceededError("no PUBACK for '" + topic + "' within timeout");
  } catch (const ::mqtt::exception& e) {
    return UnavailableError("publish to '" + topic + "' failed: " + e.what());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LinkMeter::Global().Record(impl_->config.link_src, impl_->config.link_dst, payload, secs);
  return Status::Ok();
}

Status MqttClient::Subscribe(const std::string& filter, int qos, MessageHandler handler) {
  return AddSubscription(filter, qos, std::move(handler), false);
}

Status MqttClient::SubscribeInline(const std::string& filter, int qos, MessageHandler handler) {
  return AddSubscription(filter, qos, std::move(handler), true);
}

Status MqttClient::AddSubscription(const std::string& filter, int qos, MessageHandler handler,
                                   bool inline_) {
  if (qos < 0 || qos > 1) return InvalidArgumentError("QoS must be 0 or 1");
  if (filter.empty()) return InvalidArgumentError("empty subscription filter");
  {
    std::lock_guard lock(impl_->mu);
    impl_->subs.push_back({filter, qos, std::move(handler), inline_});
  }
  if (!impl_->is_up) return Status::Ok();  // sent on the next connect
  try {
    if (!impl_->client->subscribe(filter, qos)->wait_for(impl_->config.op_timeout))
      return DeadlineExceededError("no SUBACK for '" + filter + "'");
  } catch (const ::mqtt::exception& e) {
    return UnavailableError("subscribe to '" + filter + "' failed: " + e.what());
  }
  return Status::Ok();
}

bool MqttClient::IsConnected() const { return impl_->is_up; }
int MqttClient::ConnectCount() const { return impl_->connects; }

void MqttClient::Disconnect() {
  if (!impl_->client) return;
  try {
    if (impl_->client->is_connected())
      impl_->client->disconnect()->wait_for(impl_->config.op_timeout);
  } catch (const ::mqtt::exception&) {
  }
  impl_->is_up = false;
}

}  // namespace strata::mqtt
