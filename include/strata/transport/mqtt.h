// MqttClient: publish/subscribe over a real MQTT broker (paho-mqttpp3 stays behind this class).
//
// QoS 0/1, automatic reconnect with backoff, persistent sessions (clean_session=false), last will.
// Subscriptions are remembered and re-sent after every (re)connect, because paho 1.2 does not
// restore them. Message handlers run on one dispatcher thread owned by the client — never on a
// paho callback thread — so a handler may call Publish. Publish at QoS 1 waits for the PUBACK;
// while disconnected it returns Unavailable at once (callers that must not lose data keep their
// own outbox and retry). PUBACK means the broker has it, not that a consumer processed it.
// Inbound QoS 1: paho C 1.3 sends the PUBACK when the PUBLISH is read, before any callback runs,
// and offers no manual ack. SubscribeInline runs its handler synchronously on paho's receive
// thread, so paho reads (and acks) the next message only after the handler returned: at most
// the message in hand is acknowledged-but-unprocessed, instead of a whole dispatcher queue.
// paho has one receive thread per process: a slow inline handler delays every client's traffic.
// A Publish made from an inline handler is handed to the dispatcher (returns Ok once queued).
// Every publish is recorded in the LinkMeter as (link_src, link_dst) with its PUBACK latency.
// Thread-safety: all methods are safe to call from any thread.
//
//   STRATA_ASSIGN_OR_RETURN(auto mqtt, MqttClient::Create({.uri = broker, .client_id = "fog-1"}));
//   STRATA_RETURN_IF_ERROR(mqtt->Subscribe("strata/camera/+/alert", 1, OnAlert));
//   STRATA_RETURN_IF_ERROR(mqtt->Connect(std::chrono::seconds(5)));
//   STRATA_RETURN_IF_ERROR(mqtt->Publish("strata/camera/front/motion", "ON", 1, true));
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "strata/core/status.h"

namespace strata::mqtt {

struct Config {
  std::string uri = "tcp://127.0.0.1:1883";
  std::string client_id;  // must be unique per broker; empty → "strata-<random>"
  bool clean_session = true;
  int keep_alive_s = 20;
  std::string username;
  std::string password;  // never logged
  // TLS, used when uri is ssl:// or mqtts:// (mapped to ssl://): the broker's certificate is
  // verified (chain and host name) against ca_file (PEM; empty = the system store). cert_file +
  // key_file add a client certificate. Setting any of them with a tcp:// uri is InvalidArgument.
  std::string ca_file;
  std::string cert_file, key_file;
  std::string will_topic;  // last will, published by the broker if we vanish
  std::string will_payload = "offline";
  bool will_retained = true;
  int reconnect_min_s = 1;
  int reconnect_max_s = 8;
  std::chrono::milliseconds op_timeout{5000};
  std::string link_src;         // LinkMeter label of this client (e.g. the node name)
  std::string link_dst = "broker";
  size_t max_pending_messages = 10000;  // dispatcher queue bound (blocks paho when full)
};

struct Message {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
};

using MessageHandler = std::function<void(const Message&)>;

class MqttClient {
 public:
  // InvalidArgument for a malformed URI, QoS settings or TLS files without an ssl:// uri.
  static Result<std::unique_ptr<MqttClient>> Create(const Config& config);
  ~MqttClient();

  // Connects, retrying with backoff until `deadline` passes; Unavailable if the broker never
  // answered (with the TLS error, e.g. a certificate that ca_file does not verify), Unauthenticated
  // if it refused the credentials. After a successful connect the
  // client reconnects by itself whenever the connection drops.
  Status Connect(std::chrono::milliseconds deadline);
  // QoS 0 returns once queued; QoS 1 once the broker acknowledged (or DeadlineExceeded).
  Status Publish(const std::string& topic, const std::string& payload, int qos = 1,
                 bool retained = false);
  // Registers the handler and subscribes now if connected (and after every reconnect).
  Status Subscribe(const std::string& filter, int qos, MessageHandler handler);
  // Like Subscribe, but the handler runs inside paho's message-arrived callback (see above): it
  // must be short (e.g. one SQLite commit) and must not wait for other messages of this client.
  Status SubscribeInline(const std::string& filter, int qos, MessageHandler handler);
  bool IsConnected() const;
  // Number of completed (re)connects, for tests and status pages.
  int ConnectCount() const;
  // Clean disconnect (no last will). Idempotent.
  void Disconnect();

 private:
  MqttClient();
  Status AddSubscription(const std::string& filter, int qos, MessageHandler handler, bool inline_);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when `topic` matches the MQTT filter `filter` ('+' one level, '#' the rest).
bool TopicMatches(std::string_view filter, std::string_view topic);

}  // namespace strata::mqtt
