#!/usr/bin/env bash
# Real PostgreSQL and MariaDB servers for tests/test_django_db.py, on 127.0.0.1 only, TLS required, with a
# CA and a server certificate made here (so verify-full is exercised). Idempotent: installs the Debian
# packages only when missing, reuses the certificates, and starts only what is not running.
# Writes $DB_TEST_DIR/env (shell syntax) for the tests. Run as root (CI is). Stop: .ci/db-servers.sh stop
set -euo pipefail

DIR="${DB_TEST_DIR:-/tmp/zappa-vpc-db}"
PG_PORT="${DB_TEST_PG_PORT:-55432}"
MY_PORT="${DB_TEST_MYSQL_PORT:-53306}"
# Test-only server credentials; the servers listen on 127.0.0.1 and live as long as the machine.
ADMIN_PASSWORD="zappa-vpc-test-admin"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

install_packages() {
    if [[ -z "$(pg_bin)" ]] || ! command -v mariadbd >/dev/null || ! command -v openssl >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # The packages' own services are not used (no init system here): the servers are started below.
        apt-get install -y -qq postgresql mariadb-server openssl >/dev/null
    fi
}

make_certificates() {
    local tls="$DIR/tls"
    [[ -f "$tls/server.crt" ]] && return
    mkdir -p "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=zappa-vpc test CA" \
        -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
    # The certificate names `localhost` only: a client that verifies the name must refuse 127.0.0.1.
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
        -days 3650 -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
    for user in postgres mysql; do
        mkdir -p "$tls/$user"
        cp "$tls/server.crt" "$tls/server.key" "$tls/$user/"
        chown -R "$user:" "$tls/$user"
        chmod 600 "$tls/$user/server.key"
    done
}

start_postgres() {
    local bin data="$DIR/postgres"
    bin="$(pg_bin)"
    if [[ -f "$data/postmaster.pid" ]] && runuser -u postgres -- "$bin/pg_ctl" -D "$data" status >/dev/null; then
        return
    fi
    if [[ ! -f "$data/PG_VERSION" ]]; then
        mkdir -p "$data" && chown postgres: "$data"
        printf '%s\n' "$ADMIN_PASSWORD" >"$DIR/pg-password" && chown postgres: "$DIR/pg-password"
        runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres --auth-local=peer \
            --auth-host=scram-sha-256 --pwfile="$DIR/pg-password" >/dev/null
        rm -f "$DIR/pg-password"
        # As RDS with rds.force_ssl=1: TCP only over TLS.
        printf 'local all all peer\nhostssl all all 127.0.0.1/32 scram-sha-256\nhost all all 0.0.0.0/0 reject\n' \
            >"$data/pg_hba.conf"
    fi
    runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w start -o \
        "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $data -c ssl=on \
         -c ssl_cert_file=$DIR/tls/postgres/server.crt -c ssl_key_file=$DIR/tls/postgres/server.key" >/dev/null
}

start_mariadb() {
    local data="$DIR/mariadb" socket="$DIR/mariadb-run/mariadb.sock"
    # OS root logs in as the server's root over the socket (unix_socket authentication).
    local as_root=(mariadb --socket="$socket" -uroot)
    if ! "${as_root[@]}" -e "SELECT 1" >/dev/null 2>&1; then
        mkdir -p "$DIR/mariadb-run" && chown mysql: "$DIR/mariadb-run"
        if [[ ! -d "$data/mysql" ]]; then
            mkdir -p "$data" && chown mysql: "$data"
            mariadb-install-db --user=mysql --datadir="$data" >"$DIR/mariadb-install.log" 2>&1 ||
                { cat "$DIR/mariadb-install.log" >&2; exit 1; }
        fi
        # As RDS with require_secure_transport=ON.
        nohup mariadbd --user=mysql --datadir="$data" --socket="$socket" --pid-file="$DIR/mariadb-run/mariadb.pid" \
            --bind-address=127.0.0.1 --port="$MY_PORT" --skip-name-resolve --require-secure-transport=ON \
            --ssl-ca="$DIR/tls/ca.crt" --ssl-cert="$DIR/tls/mysql/server.crt" --ssl-key="$DIR/tls/mysql/server.key" \
            >>"$DIR/mariadb.log" 2>&1 &
        for _ in $(seq 1 60); do
            "${as_root[@]}" -e "SELECT 1" >/dev/null 2>&1 && break
            sleep 0.5
        done
    fi
    # Anonymous accounts would match before the admin's; the admin logs in over TCP like the RDS master user.
    "${as_root[@]}" -e "
        DELETE FROM mysql.global_priv WHERE User = '';
        FLUSH PRIVILEGES;
        CREATE USER IF NOT EXISTS 'admin'@'127.0.0.1' IDENTIFIED BY '$ADMIN_PASSWORD';
        GRANT ALL PRIVILEGES ON *.* TO 'admin'@'127.0.0.1' WITH GRANT OPTION;"
}

stop() {
    local bin
    bin="$(pg_bin)"
    [[ -n "$bin" && -f "$DIR/postgres/postmaster.pid" ]] &&
        runuser -u postgres -- "$bin/pg_ctl" -D "$DIR/postgres" -m fast stop >/dev/null || true
    [[ -f "$DIR/mariadb-run/mariadb.pid" ]] && kill "$(cat "$DIR/mariadb-run/mariadb.pid")" 2>/dev/null || true
}

if [[ "${1:-start}" == "stop" ]]; then
    stop
    exit 0
fi
mkdir -p "$DIR"
chmod 755 "$DIR"
install_packages
make_certificates
start_postgres
start_mariadb
cat >"$DIR/env" <<EOF
DB_TEST_CA=$DIR/tls/ca.crt
DB_TEST_HOST=localhost
DB_TEST_PG_PORT=$PG_PORT
DB_TEST_PG_ADMIN=postgres
DB_TEST_MYSQL_PORT=$MY_PORT
DB_TEST_MYSQL_ADMIN=admin
DB_TEST_ADMIN_PASSWORD=$ADMIN_PASSWORD
EOF
echo "database servers ready: PostgreSQL 127.0.0.1:$PG_PORT, MariaDB 127.0.0.1:$MY_PORT (details in $DIR/env)"
