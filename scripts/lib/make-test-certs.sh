# Sourced by the scripts that start a TLS server on this machine: make_test_certs DIR writes a
# throwaway CA (DIR/ca.pem) and a server certificate it signed for 127.0.0.1 and localhost
# (DIR/cert.pem, DIR/key.pem), P-256 keys, valid two days. Needs openssl (scripts/setup.sh).
make_test_certs() {
  local dir=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca-key.pem" \
    -out "$dir/ca.pem" -days 2 -subj "/CN=colearn local CA" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/key.pem" \
    -out "$dir/server.csr" -subj "/CN=localhost" 2>/dev/null
  echo "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$dir/san.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
    -CAcreateserial -out "$dir/cert.pem" -days 2 -extfile "$dir/san.ext" 2>/dev/null
}
