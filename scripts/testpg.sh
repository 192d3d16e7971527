#!/usr/bin/env bash
# testpg.sh starts and stops a private PostgreSQL cluster for a test run.
#
#   scripts/testpg.sh start DIR   # prints the admin URL, one line, on stdout
#   scripts/testpg.sh stop DIR    # stops the cluster and removes DIR
#
# The cluster lives in DIR, listens on a Unix socket in DIR/sock only (no
# TCP port is opened), trusts every local connection and runs with fsync
# off: it is for tests and is thrown away. Tests read the URL from
# SAMBUNG_TEST_POSTGRES:
#
#   export SAMBUNG_TEST_POSTGRES=$(scripts/testpg.sh start "$DIR")
#
# If PostgreSQL is not installed, start installs Debian's postgresql package
# (as root, or through sudo). PostgreSQL refuses to run as root, so as root
# the cluster runs as the postgres system user.
set -euo pipefail

# PORT only names the socket file, DIR/sock/.s.PGSQL.5432.
PORT=5432
# MARKER tells stop that DIR is a cluster directory it may remove.
MARKER=.testpg

die() {
	echo "testpg: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 start|stop DIR" >&2
	exit 2
}

# find_bindir prints the directory holding initdb and pg_ctl: the newest
# /usr/lib/postgresql/VERSION/bin (Debian's layout), else the one on PATH.
find_bindir() {
	local d
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			echo "$d"
			return 0
		fi
	done
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	return 1
}

# install_postgres installs Debian's postgresql package without the
# cluster the package would otherwise create and start: tests bring their own.
install_postgres() {
	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null 2>&1 ||
			die "PostgreSQL is not installed, and installing it needs root or sudo: run 'apt-get install postgresql' as root"
		sudo=(sudo)
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "PostgreSQL is not installed and this is not a Debian-like system (no apt-get): install PostgreSQL's initdb and pg_ctl"
	echo "testpg: PostgreSQL not found; installing Debian's postgresql package" >&2
	local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y)
	"${apt[@]}" update >&2 || die "apt-get update failed"
	"${apt[@]}" install --no-install-recommends postgresql-common >&2 || die "apt-get install postgresql-common failed"
	if [[ -f /etc/postgresql-common/createcluster.conf ]]; then
		"${sudo[@]}" sed -i -E 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' \
			/etc/postgresql-common/createcluster.conf
	fi
	"${apt[@]}" install --no-install-recommends postgresql >&2 || die "apt-get install postgresql failed"
}

# as_owner runs a command as the cluster's owner: the postgres system user
# when we are root, ourselves otherwise.
as_owner() {
	if ((EUID == 0)); then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

url() {
	echo "postgres://sambung@/postgres?host=$1/sock&port=$PORT"
}

# wait_ready waits, for up to 30 s, until the server answers on its socket.
wait_ready() {
	local dir=$1 isready=pg_isready i
	[[ -x $BINDIR/pg_isready ]] && isready=$BINDIR/pg_isready
	for ((i = 0; i < 300; i++)); do
		if "$isready" -q -h "$dir/sock" -p "$PORT" -U sambung -d postgres; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

server_log() {
	if [[ -f $1/postgres.log ]]; then
		echo "--- $1/postgres.log ---" >&2
		cat "$1/postgres.log" >&2
	fi
}

start() {
	local dir=$1
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# A Unix socket path holds at most 107 bytes.
	((${#dir} + ${#PORT} + 16 <= 107)) || die "$dir is too long a path for a Unix socket; use a shorter DIR"

	BINDIR=$(find_bindir) || {
		install_postgres
		BINDIR=$(find_bindir) || die "PostgreSQL was installed, but initdb and pg_ctl are still not found"
	}
	if ((EUID == 0)); then
		id postgres >/dev/null 2>&1 ||
			die "running as root needs the postgres system user to run the server (PostgreSQL refuses root)"
	fi

	if [[ -f $dir/data/postmaster.pid ]] && as_owner "$BINDIR/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		wait_ready "$dir" || die "a server runs in $dir/data but does not answer on $dir/sock"
		url "$dir"
		return 0
	fi

	if [[ ! -e $dir/$MARKER && -n $(ls -A "$dir") ]]; then
		die "$dir is not empty and was not made by testpg.sh start; give it an empty or new DIR"
	fi
	touch "$dir/$MARKER"
	mkdir -p "$dir/sock"
	if ((EUID == 0)); then
		chown -R postgres:postgres "$dir"
		runuser -u postgres -- test -w "$dir" ||
			die "the postgres user cannot write to $dir: is a parent directory closed to it? Use a DIR under /tmp"
	fi

	if [[ ! -f $dir/data/PG_VERSION ]]; then
		if ! as_owner "$BINDIR/initdb" -D "$dir/data" -A trust -U sambung -E UTF8 --locale=C --no-sync \
			>"$dir/initdb.log" 2>&1; then
			cat "$dir/initdb.log" >&2
			die "initdb failed in $dir/data"
		fi
	fi

	if ! as_owner "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$dir/sock' -c port=$PORT -c fsync=off" \
		start >&2; then
		server_log "$dir"
		die "the server did not start"
	fi
	if ! wait_ready "$dir"; then
		server_log "$dir"
		die "the server started but does not answer on $dir/sock"
	fi
	url "$dir"
}

stop() {
	local dir=$1
	[[ -d $dir ]] || return 0
	dir=$(cd "$dir" && pwd)
	if [[ -z $(ls -A "$dir") ]]; then # start failed before it made anything
		rmdir "$dir"
		return 0
	fi
	[[ -e $dir/$MARKER ]] || die "$dir was not made by testpg.sh start; not removing it"
	if [[ -f $dir/data/postmaster.pid ]]; then
		BINDIR=$(find_bindir) || die "initdb and pg_ctl are not found; cannot stop the server in $dir/data"
	fi
	# A postmaster.pid left by a server that died is no server to stop.
	if [[ -f $dir/data/postmaster.pid ]] && as_owner "$BINDIR/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		if ! as_owner "$BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2; then
			server_log "$dir"
			die "the server in $dir/data did not stop"
		fi
	fi
	rm -rf "$dir"
}

(($# == 2)) || usage
case $1 in
start) start "$2" ;;
stop) stop "$2" ;;
*) usage ;;
esac
