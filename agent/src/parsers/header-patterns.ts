// The header patterns StackLens ships, by name (agent.yaml `pattern: <name>`; `auto` picks one
// per file). Each is one grok pattern or a short list of alternatives (the layouts one
// library writes), tried in order; the field names say where a value goes (header-pattern.ts
// FIELD_MAP: timestamp → @timestamp, level → log.level, logger → log.logger, pid →
// process.pid, program → process.name, hostname → host.hostname, message → message, …).
// The order of this registry is the order `auto` prefers when two match as well.
//
// Adding one: a name, its pattern(s), an example line in header-pattern.test.ts.

export interface NamedHeaderPattern {
  /** One grok pattern, or alternatives tried in order. */
  grok: string | readonly string[];
  /** What it reads, for --help and the README. */
  description: string;
  /** A pattern whose fields come after a long part (Squid's URL) reads this much of a line; others HEADER_SCAN_CHARS (header-pattern.ts). */
  scanChars?: number;
}

export const HEADER_PATTERNS = {
  syslog: {
    description: 'RFC 3164 syslog (sshd, kernel, cron, macOS, Cisco %ASA-4-106023 tags: the level): Jun 14 15:16:01 combo sshd(pam_unix)[19939]: msg — hostname optional, also with an RFC 3339 time',
    // A HAProxy HTTP log line (the message starts `client:port [date]`) also gets its HTTP fields.
    grok: String.raw`(?:<%{NONNEGINT:priority}>)?(?:%{SYSLOGTIMESTAMP:timestamp}|%{TIMESTAMP_ISO8601:timestamp}) (?:%{SYSLOGHOST:hostname} )?%{SYSLOGPROG}: ?(?:(?=%{IP:client}:%{POSINT} \[%{HAPROXYDATE}\] %{HAPROXY_HTTP})|)%{GREEDYDATA:message}`,
  },
  syslog5424: {
    description: 'RFC 5424 syslog: <165>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [sd] msg',
    grok: String.raw`<%{NONNEGINT:priority}>%{POSINT:syslog_version} (?:-|%{TIMESTAMP_ISO8601:timestamp}) (?:-|%{NOTSPACE:hostname}) (?:-|%{NOTSPACE:program}) (?:-|%{NOTSPACE:pid}) (?:-|%{NOTSPACE:msgid}) (?:-|%{SYSLOG5424SD:structured_data})(?: \uFEFF?%{GREEDYDATA:message})?`,
  },
  log4j: {
    description: 'log4j / logback / log4j2 layouts: 2015-10-18 18:01:47,978 INFO [main] org.x.Y: msg · 17/06/09 20:10:40 INFO spark.SparkEnv: msg · 2015-07-29 17:41:44,747 - INFO  [thread:Class@774] - msg · 10:30:00.123 [main] INFO  org.x.Y - msg · INFO  [main] 2024-03-11 03:04:04,506 File.java:289 - msg (Cassandra)',
    grok: [
      // %d %p [%t] %c: %m (Hadoop)
      String.raw`%{LOG4J_TIMESTAMP:timestamp} +%{LOGLEVEL:level} +\[(?<thread>[^\]]*)\] %{JAVACLASS:logger}: %{GREEDYDATA:message}`,
      // %d %p %c{1}: %m (Spark, Hadoop's console)
      String.raw`%{LOG4J_TIMESTAMP:timestamp} +%{LOGLEVEL:level} +%{JAVACLASS:logger}: %{GREEDYDATA:message}`,
      // %d{ISO8601} - %-5p [%t:%C{1}@%L] - %m (ZooKeeper)
      String.raw`%{LOG4J_TIMESTAMP:timestamp} - %{LOGLEVEL:level} +\[%{DATA:thread}:%{JAVACLASS:logger}@%{INT:line}\] - %{GREEDYDATA:message}`,
      // %d [%t] %-5level %logger - %msg (logback's and log4j2's defaults, time of day only or a full date)
      String.raw`(?:%{LOG4J_TIMESTAMP:timestamp}|%{TIME:timestamp}) +\[%{DATA:thread}\] +%{LOGLEVEL:level} +%{JAVACLASS:logger} +- %{GREEDYDATA:message}`,
      // %d %-5p [%t] %c - %m and %d %-5p %c - %m
      String.raw`(?:%{LOG4J_TIMESTAMP:timestamp}|%{TIME:timestamp}) +%{LOGLEVEL:level} +(?:\[%{DATA:thread}\] +)?%{JAVACLASS:logger} +- %{GREEDYDATA:message}`,
      // %-5level [%thread] %date{ISO8601} %F:%L - %msg (Cassandra)
      String.raw`%{LOGLEVEL:level} +\[%{DATA:thread}\] %{LOG4J_TIMESTAMP:timestamp} %{JAVAFILE:file}:%{NONNEGINT:line} - %{GREEDYDATA:message}`,
      // %r [%t] %-5p %c %x - %m (log4j 1's TTCC default: milliseconds since start, no date)
      String.raw`%{NONNEGINT:uptime_ms} +\[%{DATA:thread}\] +%{LOGLEVEL:level} +%{JAVACLASS:logger} +(?:%{NOTSPACE:ndc} +)?- %{GREEDYDATA:message}`,
    ],
  },
  postgresql: {
    description: "PostgreSQL's log_line_prefix '%m [%p] ' (the default), '%m [%p] %q%u@%d ' (Debian's) or pgBadger's '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ': 2024-03-11 07:16:45.618 UTC [153800] app@shop ERROR:  msg — also %t (no milliseconds); LOG is info, and DETAIL/HINT/STATEMENT/CONTEXT lines keep their word as level; a zone other than UTC/GMT is read in the input's timezone",
    grok: [
      String.raw`%{TIMESTAMP_ISO8601:timestamp}(?: (?:UTC|GMT|%{PG_ZONE:pg_zone}))? \[%{POSINT:pid}\] (?:\[%{NONNEGINT:pg_line}(?:-%{NONNEGINT})?\] )?(?:(?:%{PG_NAME:user}@%{PG_NAME:pg_database}|\[unknown\]@\[unknown\]) )?%{PG_LEVEL:level}: +%{GREEDYDATA:message}`,
      // pgBadger's '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ' (the parts after db= optional; empty for background processes)
      String.raw`%{TIMESTAMP_ISO8601:timestamp}(?: (?:UTC|GMT|%{PG_ZONE:pg_zone}))? \[%{POSINT:pid}\]: \[%{NONNEGINT:pg_line}-%{NONNEGINT}\] (?:user=(?:%{PG_FIELD:user})?,db=(?:%{PG_FIELD:pg_database})?(?:,app=[^,]*?)?(?:,client=(?:%{PG_FIELD:client})?)? )?%{PG_LEVEL:level}: +%{GREEDYDATA:message}`,
    ],
  },
  mysql: {
    description: 'MySQL 8 error log: 2024-03-11T01:24:10.722667Z 0 [ERROR] [MY-010584] [Repl] msg — the error code goes to error.code; also MySQL 5.7 (2024-03-11T01:24:10.722667Z 0 [Note] msg) and MariaDB (2024-03-11  1:24:10 0 [Note] msg)',
    grok: String.raw`(?:%{TIMESTAMP_ISO8601:timestamp}|%{MARIADB_TIMESTAMP:timestamp}) +%{NONNEGINT:tid} \[%{MYSQL_LEVEL:level}\] (?:\[%{MYSQL_CODE:error_code}\] \[%{WORD:subsystem}\] )?%{GREEDYDATA:message}`,
  },
  redis: {
    description: 'Redis server log: 1:M 11 Mar 2024 02:22:09.875 * msg (pid:role, then . debug, * notice, # warning; - verbose gives no level)',
    grok: String.raw`%{NONNEGINT:pid}:%{REDIS_ROLE:redis_role} %{REDIS_TIMESTAMP:timestamp} %{REDIS_LEVEL:level} %{GREEDYDATA:message}`,
  },
  kafka: {
    description: 'Apache Kafka and ZooKeeper 3.5+ (log4j [%d] %p %m (%c)): [2024-03-11 00:53:46,491] INFO [GroupCoordinator 5]: msg (kafka.coordinator.group.GroupCoordinator)',
    grok: String.raw`\[%{LOG4J_TIMESTAMP:timestamp}\] %{LOGLEVEL:level} %{GREEDYDATA:message} \(%{JAVACLASS:logger}\)`,
  },
  elasticsearch: {
    description: "Elasticsearch and Logstash (log4j2 [%d][%-5p][%-25c{1.}] [%node_name]%marker %m): [2024-03-12T08:00:19,456][WARN ][o.e.t.TcpTransport       ] [es-1] msg — the node name goes to host.hostname",
    grok: String.raw`\[%{TIMESTAMP_ISO8601:timestamp}\]\[%{LOGLEVEL:level} *\]\[%{JAVACLASS:logger} *\] (?:\[%{NOTSPACE:hostname}\] )?%{GREEDYDATA:message}`,
  },
  rabbitmq: {
    description: 'RabbitMQ 3.7+: 2024-03-12 08:00:05.903069+00:00 [info] <0.33809.0> msg — the Erlang process id goes to labels.erlang_pid',
    grok: String.raw`%{TIMESTAMP_ISO8601:timestamp} \[%{LOGLEVEL:level}\] <%{ERLANG_PID:erlang_pid}> %{GREEDYDATA:message}`,
  },
  mongodb: {
    description: 'MongoDB before 4.4 (text log): 2024-03-12T08:00:17.529+0000 I  NETWORK  [conn123] msg — severity F/E/W/I/D1-5, the component to log.logger, the context to process.thread.name',
    grok: String.raw`%{TIMESTAMP_ISO8601:timestamp} %{MONGO_SEVERITY:level} +%{MONGO_COMPONENT:logger} +\[%{DATA:thread}\] %{GREEDYDATA:message}`,
  },
  tomcat: {
    description: "Tomcat's catalina.out and java.util.logging's one-line format: 12-Mar-2024 08:00:04.437 SEVERE [main] org.apache.catalina.startup.HostConfig.deployWAR msg (SEVERE is error)",
    grok: String.raw`%{TOMCAT_TIMESTAMP:timestamp} %{LOGLEVEL:level} \[%{DATA:thread}\] %{JAVACLASS:logger} %{GREEDYDATA:message}`,
  },
  spring_boot: {
    description: 'Spring Boot console/file layout: 2024-11-16 10:30:00.123  INFO 12345 --- [           main] o.s.b.App   : msg',
    grok: String.raw`%{TIMESTAMP_ISO8601:timestamp} +%{LOGLEVEL:level} +%{POSINT:pid} +--- +(?:\[(?<application>[^\]]*)\] +)?\[ *(?<thread>[^\]]*)\] +%{NOTSPACE:logger} +: %{GREEDYDATA:message}`,
  },
  python: {
    description: "Python logging: %(asctime)s - %(name)s - %(levelname)s - %(message)s · LEVEL:name:msg (basicConfig) · [time] LEVEL in module: msg (Flask) · [time] [pid] [LEVEL] msg (gunicorn) · [time] LEVEL [name:line] msg (Django) · time name[pid]: LEVEL msg (fail2ban)",
    grok: [
      String.raw`%{TIMESTAMP_ISO8601:timestamp} - %{NOTSPACE:logger} - %{LOGLEVEL:level} - %{GREEDYDATA:message}`,
      String.raw`%{PYLEVEL:level}:%{PYLOGGER:logger}:%{GREEDYDATA:message}`,
      String.raw`\[%{TIMESTAMP_ISO8601:timestamp}\] %{LOGLEVEL:level} in %{NOTSPACE:logger}: %{GREEDYDATA:message}`,
      String.raw`\[%{TIMESTAMP_ISO8601:timestamp}\] \[%{POSINT:pid}\] \[%{LOGLEVEL:level}\] %{GREEDYDATA:message}`,
      // [%(asctime)s] %(levelname)s [%(name)s:%(lineno)s] %(message)s — Django projects' usual format (its runserver date)
      String.raw`\[(?:%{TIMESTAMP_ISO8601:timestamp}|%{PYDATE:timestamp})\] %{LOGLEVEL:level} \[%{PYLOGGER:logger}(?::%{POSINT:line})?\] %{GREEDYDATA:message}`,
      // %(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s — fail2ban and other daemons
      String.raw`%{TIMESTAMP_ISO8601:timestamp} %{PYLOGGER:logger} *\[%{POSINT:pid}\]: %{LOGLEVEL:level} +%{GREEDYDATA:message}`,
    ],
  },
  hdfs: {
    description: 'Hadoop 0.x / HDFS: 081109 203615 148 INFO dfs.DataNode$PacketResponder: msg (yyMMdd HHmmss pid LEVEL logger: msg)',
    grok: String.raw`%{HDFS_TIMESTAMP:timestamp} +(?:%{NONNEGINT:pid} +)?%{LOGLEVEL:level} +%{JAVACLASS:logger}: ?%{GREEDYDATA:message}`,
  },
  glog: {
    description: 'glog / klog (Kubernetes components): I1116 10:30:00.123456   12345 server.go:123] msg',
    grok: String.raw`%{GLOG_LEVEL:level}%{GLOG_TIMESTAMP:timestamp} +%{NONNEGINT:tid} %{GLOG_FILE:file}:%{NONNEGINT:line}\] %{GREEDYDATA:message}`,
  },
  logcat: {
    description: 'Android logcat: 03-17 16:13:38.811  1702  2395 D WindowManager: msg (threadtime), also time and brief',
    grok: [
      String.raw`%{LOGCAT_TIMESTAMP:timestamp} +%{NONNEGINT:pid} +%{NONNEGINT:tid} %{LOGCAT_LEVEL:level} %{DATA:logger} *: %{GREEDYDATA:message}`,
      String.raw`(?:%{LOGCAT_TIMESTAMP:timestamp} )?%{LOGCAT_LEVEL:level}/%{DATA:logger}\( *%{NONNEGINT:pid}\): %{GREEDYDATA:message}`,
    ],
  },
  nginx_access: {
    description: 'nginx access log (combined, the default; main with a trailing X-Forwarded-For): 1.2.3.4 - user [16/Nov/2024:10:30:00 +0000] "GET / HTTP/1.1" 200 612 "ref" "agent"',
    grok: String.raw`%{IPORHOST:client} - %{HTTPDUSER:user} \[%{HTTPDATE:timestamp}\] %{HTTPREQUEST}(?: "%{QSBODY:referrer}" "%{QSBODY:user_agent}")?.*`,
  },
  apache_access: {
    description: 'Apache access log, combined or common (optionally after %v:%p): 1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326',
    grok: String.raw`(?:%{IPORHOST:vhost}(?::%{POSINT:vhost_port})? )?%{IPORHOST:client} %{HTTPDUSER:ident} %{HTTPDUSER:user} \[%{HTTPDATE:timestamp}\] %{HTTPREQUEST}(?: "%{QSBODY:referrer}" "%{QSBODY:user_agent}")?.*`,
  },
  haproxy_http: {
    description: 'HAProxy HTTP log (option httplog) written to a file or stdout: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 "GET /index.html HTTP/1.1" (through syslog, `syslog` reads the same fields)',
    grok: String.raw`%{IP:client}:%{POSINT} \[%{HAPROXYDATE:timestamp}\] %{HAPROXY_HTTP}.*`,
  },
  squid: {
    description: "Squid's access.log in its native format (logformat squid, the default): 1710226800.829   3394 10.20.6.42 TCP_MISS/200 2736 GET http://x/y jdoe HIER_DIRECT/1.2.3.4 text/html — the cache result (TCP_MISS) goes to event.action, the hierarchy code (HIER_DIRECT) to squid.hierarchy_code, the peer to destination.address",
    // %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt; `-` is an empty user, peer or type.
    // Its fields follow the URL (Squid logs up to 8 KiB of it): it reads up to 16 KiB of a line
    // (every part but the last is one run of non-spaces: no backtracking grows with the length).
    scanChars: 16 * 1024,
    grok: String.raw`%{SQUID_TIME:timestamp} +%{INT:squid.elapsed_ms:int} %{IPORHOST:client} %{SQUID_CODE:event.action}/%{NONNEGINT:status} %{NONNEGINT:http.response.bytes:int} %{NOTSPACE:method} %{NOTSPACE:request} (?:-|%{NOTSPACE:user}) %{SQUID_CODE:squid.hierarchy_code}/(?:-|%{IPORHOST:destination.address}) (?:-|%{NOTSPACE:http.response.mime_type}).*`,
  },
  nginx_error: {
    description: 'nginx error log: 2024/11/16 10:30:00 [error] 1234#5678: *9 open() "/x" failed, client: 1.2.3.4, …',
    grok: String.raw`%{NGINX_ERROR_TIMESTAMP:timestamp} \[%{LOGLEVEL:level}\] %{POSINT:pid}#%{NONNEGINT:tid}: (?:\*%{NONNEGINT:connection_id} )?%{GREEDYDATA:message}`,
  },
  apache_error: {
    description: 'Apache error log: [Sun Dec 04 04:47:44 2005] [notice] msg (2.2) · [Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 1.2.3.4:5] msg (2.4); a [client …] stays in the message and is also source.address',
    grok: [
      String.raw`\[%{HTTPDERROR_DATE:timestamp}\] \[%{APACHE_LEVEL:level}\] (?:(?=\[client %{IPORHOST:client}(?::%{POSINT})?\])|)%{GREEDYDATA:message}`,
      String.raw`\[%{HTTPDERROR_DATE:timestamp}\] \[(?:%{WORD:module})?:%{APACHE_LEVEL:level}\] \[pid %{POSINT:pid}(?::tid %{NONNEGINT:tid})?\] (?:(?=\[client %{IPORHOST:client}(?::%{POSINT})?\])|)%{GREEDYDATA:message}`,
    ],
  },
} as const satisfies Record<string, NamedHeaderPattern>;

export type HeaderPatternName = keyof typeof HEADER_PATTERNS;

/**
 * The sub-patterns `%{NAME}` may use (grok's core library, trimmed to what log headers need,
 * plus the time layouts header-time.ts reads). Compiled once, into one anchored RegExp.
 */
export const GROK_LIBRARY: Record<string, string> = {
  // basics
  WORD: String.raw`\w+`,
  NOTSPACE: String.raw`\S+`,
  SPACE: String.raw`\s*`,
  DATA: String.raw`.*?`,
  GREEDYDATA: String.raw`.*`,
  INT: String.raw`[+-]?\d+`,
  POSINT: String.raw`[1-9]\d*`,
  NONNEGINT: String.raw`\d+`,
  NUMBER: String.raw`[+-]?(?:\d+(?:\.\d+)?|\.\d+)`,
  BASE16NUM: String.raw`(?:0[xX])?[0-9A-Fa-f]+`,
  QUOTEDSTRING: String.raw`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`,
  QSBODY: String.raw`(?:[^"\\]|\\.)*`,
  UUID: String.raw`[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}`,
  USERNAME: String.raw`[a-zA-Z0-9._-]+`,
  USER: '%{USERNAME}',
  EMAILADDRESS: String.raw`[a-zA-Z0-9!#$%&'*+/=?^_\x60{|}~.-]+@%{HOSTNAME}`,
  // network
  IPV4: String.raw`(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}`,
  IPV6: String.raw`(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|%{IPV4})(?:%[0-9A-Za-z]+)?`,
  IP: '(?:%{IPV6}|%{IPV4})',
  HOSTNAME: String.raw`[0-9A-Za-z](?:[0-9A-Za-z_-]{0,62})(?:\.[0-9A-Za-z_-]{1,63})*\.?`,
  IPORHOST: '(?:%{IP}|%{HOSTNAME})',
  HOSTPORT: '%{IPORHOST}:%{POSINT}',
  PATH: String.raw`(?:/[^\s]*|[A-Za-z]:\\[^\s]*)`,
  URI: String.raw`[A-Za-z][A-Za-z0-9+.-]*://\S+`,
  URIPATHPARAM: String.raw`\S+`,
  HTTPDUSER: String.raw`(?:%{EMAILADDRESS}|\S+)`,
  HTTPREQUEST: String.raw`"(?:%{WORD:method} %{NOTSPACE:request}(?: HTTP/%{NUMBER:http_version})?|%{QSBODY:raw_request})" %{NONNEGINT:status} (?:%{NONNEGINT:bytes}|-)`,
  // levels and names
  LOGLEVEL: String.raw`(?:[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo(?:rmation)?|INFO(?:RMATION)?|[Ww]arn(?:ing)?|WARN(?:ING)?|[Ee]rr(?:or)?|ERR(?:OR)?|[Cc]rit(?:ical)?|CRIT(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|[Aa]lert|ALERT|[Ee]merg(?:ency)?|EMERG(?:ENCY)?|[Vv]erbose|VERBOSE|FINE(?:R|ST)?|CONFIG)`,
  PYLEVEL: '(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|NOTSET)',
  PYLOGGER: String.raw`[^:\s]+`,
  APACHE_LEVEL: String.raw`(?:emerg|alert|crit|error|warn|notice|info|debug|trace[1-8])`,
  LOGCAT_LEVEL: '[VDIWEFA]',
  GLOG_LEVEL: '[IWEF]',
  GLOG_FILE: String.raw`[^\s:\]]+`,
  JAVAFILE: String.raw`[A-Za-z_$][\w$]*\.(?:java|scala|kt)`,
  PG_LEVEL: '(?:DEBUG[1-5]|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION)',
  PG_NAME: String.raw`[^\s@\[\]]+`,
  PG_FIELD: String.raw`[^\s,]+`,
  PG_ZONE: String.raw`[A-Z]{2,5}|[+-]\d{2}(?::?\d{2})?`,
  MYSQL_LEVEL: '(?:System|ERROR|Error|Warning|Note)',
  MYSQL_CODE: String.raw`MY-\d{6}`,
  REDIS_ROLE: '[XCSM]',
  ERLANG_PID: String.raw`\d+\.\d+\.\d+`,
  MONGO_SEVERITY: '(?:[FEWI]|D[1-5]?)',
  MONGO_COMPONENT: String.raw`(?:-|[A-Z][A-Z_]*)`,
  REDIS_LEVEL: String.raw`[.\-*#]`,
  JAVACLASS: String.raw`(?:[a-zA-Z$_][a-zA-Z$_0-9-]*\.)*[a-zA-Z$_][a-zA-Z$_0-9]*`,
  // syslog
  SYSLOGHOST: '%{IPORHOST}',
  PROG: String.raw`[^\s\[\]:]+`,
  // name[pid] (names may hold spaces when a pid follows: "Google Chrome Helper[39855]"), name, or "syslogd 1.4.1"; macOS adds " (…)" after the pid
  // … or a Cisco message tag (IOS, ASA, NX-OS: %FACILITY-SEVERITY-MNEMONIC), whose severity is the line's level
  SYSLOGPROG: String.raw`(?:%{CISCOTAG}|%{SYSLOGPROGNAME:program}\[%{NONNEGINT:pid}\](?: \([^)]*\))?|%{PROG:program}(?: %{SYSLOGPROGVERSION:program_version})?)`,
  CISCOTAG: String.raw`(?<program>%[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)?-(?<severity_code>[0-7])-[A-Z0-9_]+)`,
  SYSLOGPROGNAME: String.raw`[^\s\[\]:](?:[^\[\]:]{0,80}[^\s\[\]:])?`,
  SYSLOGPROGVERSION: String.raw`\d+(?:\.\d+)+`,
  SYSLOG5424SD: String.raw`(?:\[[^\]\s=]+(?: [^\]\s=]+="(?:[^"\\]|\\.)*")*\])+`,
  // times
  MONTH: String.raw`(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)`,
  MONTHNUM: String.raw`(?:0?[1-9]|1[0-2])`,
  MONTHNUM2: String.raw`(?:0[1-9]|1[0-2])`,
  MONTHDAY: String.raw`(?:0[1-9]|[12]\d|3[01]|[1-9])`,
  DAY: String.raw`(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)`,
  YEAR: String.raw`\d{4}`,
  HOUR: String.raw`(?:2[0-3]|[01]?\d)`,
  MINUTE: '[0-5]\\d',
  SECOND: String.raw`(?:[0-5]?\d|60)(?:[.,]\d{1,9})?`,
  TIME: '%{HOUR}:%{MINUTE}(?::%{SECOND})?',
  ISO8601_TIMEZONE: String.raw`(?:Z|[+-]%{HOUR}(?::?%{MINUTE})?)`,
  TIMESTAMP_ISO8601: String.raw`%{YEAR}-%{MONTHNUM2}-%{MONTHDAY}[T ]%{HOUR}:%{MINUTE}(?::%{SECOND})?(?: ?%{ISO8601_TIMEZONE})?`,
  DATE_US: String.raw`%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}`,
  DATE_EU: String.raw`%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}`,
  SYSLOGTIMESTAMP: String.raw`%{MONTH} +%{MONTHDAY} %{TIME}`,
  HTTPDATE: String.raw`%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} [+-]\d{4}`,
  HAPROXYDATE: String.raw`%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME}`,
  PYDATE: String.raw`%{MONTHDAY}/%{MONTH}/%{YEAR} %{TIME}`,
  // After `client:port [accept date] `: frontend backend/server Tq/Tw/Tc/Tr/Tt status bytes cookies termination conns queues {headers} "request"
  HAPROXY_HTTP: String.raw`%{NOTSPACE:haproxy.frontend_name} %{NOTSPACE:haproxy.backend_name}/%{NOTSPACE:haproxy.server_name} [-\d]+/[-\d]+/[-\d]+/[-\d]+/\+?%{INT:haproxy.total_time_ms} %{INT:status} \+?%{NONNEGINT:bytes} \S+ \S+ %{NOTSPACE:haproxy.termination_state} [\d/+]+ [\d/]+ (?:\{[^}]*\} )*"(?:%{WORD:method} %{NOTSPACE:request}(?: HTTP/%{NUMBER:http_version})?|%{QSBODY:raw_request})"`,
  // Squid: epoch seconds with milliseconds; result and hierarchy codes (TCP_MISS, NONE_NONE, HIER_DIRECT)
  SQUID_TIME: String.raw`1\d{9}\.\d{3}`,
  SQUID_CODE: '[A-Z][A-Z0-9_]*',
  HTTPDERROR_DATE: String.raw`%{DAY} %{MONTH} +%{MONTHDAY} %{TIME} %{YEAR}`,
  HDFS_TIMESTAMP: String.raw`\d{6} \d{6}`,
  LOG4J_TIMESTAMP: String.raw`(?:%{TIMESTAMP_ISO8601}|\d{2}/\d{2}/\d{2} %{TIME})`,
  NGINX_ERROR_TIMESTAMP: String.raw`\d{4}/\d{2}/\d{2} %{TIME}`,
  LOGCAT_TIMESTAMP: String.raw`(?:\d{4}-)?\d{2}-\d{2} %{TIME}`,
  GLOG_TIMESTAMP: String.raw`\d{4} %{TIME}`,
  REDIS_TIMESTAMP: String.raw`%{MONTHDAY} %{MONTH} %{YEAR} %{TIME}`,
  TOMCAT_TIMESTAMP: String.raw`%{MONTHDAY}-%{MONTH}-%{YEAR} %{TIME}`,
  MARIADB_TIMESTAMP: String.raw`%{YEAR}-%{MONTHNUM2}-%{MONTHDAY} +%{HOUR}:%{MINUTE}:%{SECOND}`,
};
