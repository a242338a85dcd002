#!/usr/bin/env bash
# Start the local services the integration tests use, when they are not running yet.
# In CI (CI=true) a service that cannot be started is a failure, not a silent skip.
set -uo pipefail
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start() {
  local name=$1 port=$2; shift 2
  if up "$port"; then return 0; fi
  echo "starting $name on 127.0.0.1:$port"
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq 1 "${TRIES:-60}"); do up "$port" && return 0; sleep 0.5; done
  echo "service $name did not come up on port $port" >&2
  [ "${CI:-}" = "true" ] && exit 1
  return 0
}
start redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
  --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
start postgresql 5432 pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql 2>/dev/null | head -1)" main start
start nats 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
  -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
# RabbitMQ (the events tests) boots its Erlang VM first: give it up to 90 s
TRIES=180 start rabbitmq 5672 rabbitmq-server -detached
exit 0
