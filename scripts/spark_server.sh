#!/usr/bin/env bash
# A local Spark Connect server for the Spark tests and benchmarks (the kernel needs only the client).
#   bash scripts/spark_server.sh install   # pyspark (the server side, ~450 MB) into .spark/server
#   bash scripts/spark_server.sh start     # local[2] on 127.0.0.1:15002; waits until it answers
#   bash scripts/spark_server.sh stop      # stops the server this script started, by its PID
#   bash scripts/spark_server.sh running   # exit status 0 when a server answers on the port
# `start` uses a server already answering on the port as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
PYSPARK_VERSION="${PYSPARK_VERSION:-4.3.0}"
PORT="${SPARK_CONNECT_PORT:-15002}"
ROOT="$PWD/.spark"
export SPARK_HOME="$ROOT/server/pyspark" SPARK_PID_DIR="$ROOT/pid" SPARK_LOG_DIR="$ROOT/logs"
PIDFILE="$ROOT/started.pid"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

case "${1:-}" in
  install)
    if ! command -v java >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    fi
    if [ ! -f "$SPARK_HOME/sbin/start-connect-server.sh" ]; then
      PY=.venv/bin/python; [ -x "$PY" ] || PY=python3   # any pip will do: it only unpacks the package
      "$PY" -m pip install -q --target "$ROOT/server" "pyspark==$PYSPARK_VERSION"
    fi
    ;;
  start)
    if answers; then echo "spark connect: a server already answers on port $PORT"; exit 0; fi
    [ -f "$SPARK_HOME/sbin/start-connect-server.sh" ] || bash "$0" install
    mkdir -p "$SPARK_PID_DIR" "$SPARK_LOG_DIR"
    # (a SPARK_REMOTE in the environment would make spark-submit refuse --master)
    env -u SPARK_REMOTE bash "$SPARK_HOME/sbin/start-connect-server.sh" --master "local[2]" --driver-memory 2g \
      --conf spark.connect.grpc.binding.address=127.0.0.1 \
      --conf spark.connect.grpc.binding.port="$PORT" \
      --conf spark.connect.progress.reportInterval=250ms \
      --conf spark.ui.enabled=false >/dev/null
    cat "$SPARK_PID_DIR"/*SparkConnectServer*.pid > "$PIDFILE"
    for _ in $(seq 1 120); do
      if answers; then echo "spark connect: started (pid $(cat "$PIDFILE")) on port $PORT"; exit 0; fi
      sleep 0.5
    done
    echo "spark connect: no answer on port $PORT after 60 s; log: $SPARK_LOG_DIR" >&2
    grep -v "^Spark Command" "$SPARK_LOG_DIR"/*.out | tail -8 >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$PIDFILE" ]; then
      pid="$(cat "$PIDFILE")"; rm -f "$PIDFILE" "$SPARK_PID_DIR"/*SparkConnectServer*.pid
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    ;;
  running) answers ;;
  *) echo "usage: $0 install|start|stop|running" >&2; exit 2 ;;
esac
