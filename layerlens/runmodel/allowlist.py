"""Commands whose effect on the filesystem layerlens knows from their manuals.

A RUN is *bounded* only when every simple command in it is listed here and its arguments
have the meaning the entry states. Anything else (a script, make, a compiler, a package
manager of a language ecosystem, which runs the project's own hooks) may read every file
and every environment variable.

Each entry: the command name; `kind`, which says how its arguments are read; the
subcommands that keep that meaning (None: any); the system locations it reads and
writes; the environment variables it reads; and `source`, the manual the meaning is taken
from. Kinds:

* ``packages``: non-option arguments after the subcommand are package names from a
  repository (an argument with a `/`, a leading `.` or a package-file suffix is a local
  file and makes the RUN unbounded). Option values are taken as literals. An entry with
  `requires` is bounded only when one of those options is given (`npm install -g`: global
  mode; without it npm installs the project in the working directory). An entry with
  `scoped` accepts one `@scope/name` slash (npm's scoped package names).
* ``paths``: non-option arguments are paths the command creates, changes or removes; they
  must be literal and absolute.
* ``user``: user and group database edits; the last non-option argument is a name.
* ``print``: writes its literal arguments to stdout (only a redirection writes a file).
* ``builtin``: changes only the shell's own state.
"""

from __future__ import annotations

from dataclasses import dataclass

SYSTEM_READS = ("/etc/", "/usr/", "/lib/", "/lib64/", "/var/lib/", "/var/cache/", "/bin/",
                "/sbin/")
PKG_WRITES = ("/etc/", "/usr/", "/lib/", "/lib64/", "/var/", "/bin/", "/sbin/", "/opt/",
              "/run/", "/tmp/", "/root/", "/home/")
USER_WRITES = ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/subuid",
               "/etc/subgid", "/home/", "/var/mail/", "/var/spool/mail/")
# Proxy, locale and terminal settings every tool may consult; never project state.
COMMON_ENV = frozenset({"PATH", "HOME", "TERM", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE",
                        "TZ", "TMPDIR", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY",
                        "HTTPS_PROXY", "NO_PROXY", "ftp_proxy", "FTP_PROXY", "all_proxy",
                        "ALL_PROXY"})
PACKAGE_SUFFIXES = (".deb", ".rpm", ".apk", ".tar.gz", ".tgz", ".whl", ".zip")


@dataclass(frozen=True, slots=True)
class Known:
    name: str
    kind: str  # packages | paths | reads | user | print | builtin
    source: str  # the manual the argument meaning is taken from
    subcommands: frozenset[str] | None = None
    reads: tuple[str, ...] = SYSTEM_READS
    writes: tuple[str, ...] = ()
    env: frozenset[str] = frozenset()
    file_options: frozenset[str] = frozenset()  # options whose value is a file: unbounded
    value_options: frozenset[str] = frozenset()  # options that take a separate value
    requires: frozenset[str] = frozenset()  # one of these options must be present
    # Variables by prefix that configure the tool (npm reads every npm_config_*); and
    # whether it reads per-user settings in $HOME (so a HOME set in the Dockerfile matters).
    env_prefixes: tuple[str, ...] = ()
    reads_home: bool = False
    scoped: bool = False


_APT_SUB = frozenset({"update", "install", "upgrade", "dist-upgrade", "full-upgrade",
                      "remove", "purge", "autoremove", "clean", "autoclean"})
_APT_ENV = frozenset({"DEBIAN_FRONTEND", "DEBCONF_NONINTERACTIVE_SEEN", "APT_CONFIG",
                      "DEBIAN_PRIORITY"})
_APT_VALUES = frozenset({"-o", "--option", "-t", "--target-release", "-q"})

TABLE: tuple[Known, ...] = (
    Known("apt-get", "packages", "apt-get(8)", _APT_SUB, writes=PKG_WRITES, env=_APT_ENV,
          file_options=frozenset({"-c", "--config-file"}), value_options=_APT_VALUES),
    Known("apt", "packages", "apt(8)", _APT_SUB, writes=PKG_WRITES, env=_APT_ENV,
          file_options=frozenset({"-c", "--config-file"}), value_options=_APT_VALUES),
    Known("apt-mark", "packages", "apt-mark(8)", frozenset({"auto", "manual", "hold",
                                                           "unhold", "showmanual"}),
          writes=("/var/lib/apt/",), file_options=frozenset({"-f", "--file"})),
    Known("apk", "packages", "apk(8), apk-tools", frozenset({"add", "del", "update", "upgrade",
                                                            "cache"}),
          writes=PKG_WRITES, file_options=frozenset({"--repositories-file", "-X",
                                                     "--repository", "--keys-dir"}),
          value_options=frozenset({"-t", "--virtual"})),
    Known("yum", "packages", "yum(8)", frozenset({"install", "update", "upgrade", "remove",
                                                 "erase", "clean", "makecache"}),
          writes=PKG_WRITES, file_options=frozenset({"-c", "--config"}),
          value_options=frozenset({"--enablerepo", "--disablerepo", "--setopt"})),
    Known("dnf", "packages", "dnf(8)", frozenset({"install", "update", "upgrade", "remove",
                                                 "erase", "clean", "makecache", "autoremove"}),
          writes=PKG_WRITES, file_options=frozenset({"-c", "--config"}),
          value_options=frozenset({"--enablerepo", "--disablerepo", "--setopt"})),
    Known("microdnf", "packages", "microdnf(8)", frozenset({"install", "update", "upgrade",
                                                           "remove", "clean"}),
          writes=PKG_WRITES, value_options=frozenset({"--enablerepo", "--disablerepo",
                                                      "--setopt"})),
    Known("zypper", "packages", "zypper(8)", frozenset({"install", "in", "refresh", "ref",
                                                       "update", "up", "remove", "rm",
                                                       "clean", "cc"}),
          writes=PKG_WRITES),
    Known("update-ca-certificates", "builtin", "update-ca-certificates(8)",
          writes=("/etc/ssl/",)),
    Known("locale-gen", "builtin", "locale-gen(8)", writes=("/usr/lib/locale/",)),
    Known("ldconfig", "builtin", "ldconfig(8)", writes=("/etc/ld.so.cache",)),
    Known("mkdir", "paths", "mkdir(1), GNU coreutils", value_options=frozenset({"-m",
                                                                               "--mode"})),
    Known("rm", "paths", "rm(1), GNU coreutils"),
    Known("rmdir", "paths", "rmdir(1), GNU coreutils"),
    Known("touch", "paths", "touch(1), GNU coreutils",
          file_options=frozenset({"-r", "--reference"}), value_options=frozenset({"-d", "-t"})),
    Known("chmod", "paths", "chmod(1), GNU coreutils",
          file_options=frozenset({"--reference"})),
    Known("chown", "paths", "chown(1), GNU coreutils",
          file_options=frozenset({"--reference"})),
    Known("chgrp", "paths", "chgrp(1), GNU coreutils",
          file_options=frozenset({"--reference"})),
    Known("ln", "paths", "ln(1), GNU coreutils"),
    # reads each file operand and writes only to standard output (a redirect is the write)
    Known("cat", "reads", "cat(1), GNU coreutils; POSIX cat", reads=()),
    Known("useradd", "user", "useradd(8), shadow-utils", writes=USER_WRITES,
          value_options=frozenset({"-u", "-g", "-G", "-d", "-s", "-c", "-e", "-f", "-K",
                                   "--uid", "--gid", "--groups", "--home-dir", "--shell",
                                   "--comment"}),
          file_options=frozenset({"-k", "--skel"})),
    Known("groupadd", "user", "groupadd(8), shadow-utils", writes=USER_WRITES,
          value_options=frozenset({"-g", "--gid", "-K"})),
    Known("adduser", "user", "adduser(8) (Debian) and BusyBox adduser", writes=USER_WRITES,
          value_options=frozenset({"-u", "-G", "-h", "-s", "-g", "--uid", "--gid",
                                   "--ingroup", "--home", "--shell", "--gecos"})),
    Known("addgroup", "user", "addgroup(8) (Debian) and BusyBox addgroup", writes=USER_WRITES,
          value_options=frozenset({"-g", "--gid"})),
    Known("usermod", "user", "usermod(8), shadow-utils", writes=USER_WRITES,
          value_options=frozenset({"-u", "-g", "-G", "-d", "-s", "-c", "-aG", "-a"})),
    # `npm install -g NAME...`: global mode installs registry packages under the global
    # prefix (/usr/local by default) and ignores the working directory's project and its
    # .npmrc ("global mode enabled, ignored": @npmcli/config loadProjectConfig); it reads
    # the global and builtin npmrc under the prefix, the user's ~/.npmrc and npm_config_*.
    Known("npm", "packages", "npm-install(1), npmrc(5), @npmcli/config",
          frozenset({"install", "i", "add"}),
          reads=(*SYSTEM_READS, "/root/", "/home/"), writes=PKG_WRITES,
          env=frozenset({"NODE_OPTIONS", "NODE_EXTRA_CA_CERTS"}),
          file_options=frozenset({"--userconfig", "--globalconfig", "--prefix", "-C"}),
          value_options=frozenset({"--registry", "--loglevel", "--omit", "--include"}),
          requires=frozenset({"-g", "--global", "--location=global"}),
          env_prefixes=("npm_config_", "NPM_CONFIG_"), reads_home=True, scoped=True),
    # Debian's apache2 helpers: each argument names a module, config or site; they link
    # /etc/apache2/*-enabled to *-available and record state under /var/lib/apache2.
    *(Known(name, "packages", f"{name}(8), Debian apache2", reads=SYSTEM_READS,
            writes=("/etc/apache2/", "/var/lib/apache2/"),
            env=frozenset({"APACHE_CONFDIR", "APACHE_ENVVARS"})) for name in (
        "a2enmod", "a2dismod", "a2enconf", "a2disconf", "a2ensite", "a2dissite")),
    Known("echo", "print", "echo(1), POSIX", reads=()),
    Known("printf", "print", "printf(1), POSIX", reads=()),
    Known("true", "builtin", "sh(1) POSIX special built-ins", reads=()),
    Known(":", "builtin", "sh(1) POSIX special built-ins", reads=()),
    Known("set", "builtin", "sh(1) POSIX special built-ins", reads=()),
    Known("export", "builtin", "sh(1) POSIX special built-ins", reads=()),
    Known("cd", "builtin", "sh(1) POSIX cd", reads=()),
)
BY_NAME = {k.name: k for k in TABLE}
