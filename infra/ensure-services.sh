#!/usr/bin/env bash
# Starts PostgreSQL, Redis and RabbitMQ on this machine if they are down, then waits until each
# accepts connections. Uses the start commands of the node-svc machine (Debian packages).
# Usage: infra/ensure-services.sh [postgres] [redis] [rabbitmq]   (default: all three)
set -euo pipefail

# How long to wait for a service to accept connections. RabbitMQ's Erlang VM needs the longest
# (10–30 s on a cold start here); 120 s leaves room for a loaded CI machine.
WAIT_SECONDS=${DROVER_SERVICE_WAIT_SECONDS:-120}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2 waited=0
  until port_open "$port"; do
    if (( waited >= WAIT_SECONDS )); then
      echo "ensure-services: $name did not open port $port within ${WAIT_SECONDS}s" >&2
      return 1
    fi
    sleep 1; waited=$((waited + 1))
  done
  echo "ensure-services: $name is up on port $port"
}

start_postgres() {
  port_open 5432 && { echo "ensure-services: postgres already up"; return; }
  echo "ensure-services: starting postgres"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  wait_port postgres 5432
}

start_redis() {
  port_open 6379 && { echo "ensure-services: redis already up"; return; }
  echo "ensure-services: starting redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port redis 6379
}

start_rabbitmq() {
  port_open 5672 && { echo "ensure-services: rabbitmq already up"; return; }
  echo "ensure-services: starting rabbitmq"
  rabbitmq-server -detached
  wait_port rabbitmq 5672
}

services=("$@")
(( ${#services[@]} )) || services=(postgres redis rabbitmq)
for s in "${services[@]}"; do
  case "$s" in
    postgres) start_postgres ;;
    redis) start_redis ;;
    rabbitmq) start_rabbitmq ;;
    *) echo "ensure-services: unknown service '$s' (postgres, redis, rabbitmq)" >&2; exit 2 ;;
  esac
done
