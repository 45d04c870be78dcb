# Sourced by the scripts that run a federation of separate processes on this machine.

# server_port FILE: waits (up to 10 s) for the "listening on 127.0.0.1:PORT" line a server
# prints to FILE and prints PORT.
server_port() {
  local file=$1
  for _ in $(seq 100); do grep -q "listening on" "$file" && break; sleep 0.1; done
  sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$file" | head -1
}

# finish_federation SERVER_PID PID...: waits for every participant PID, then stops the server
# with SIGTERM (a graceful stop) and waits for it.
finish_federation() {
  local server=$1
  shift
  for pid in "$@"; do wait "$pid"; done
  kill -TERM "$server"
  wait "$server" || true
}
