# EXAMPLES of cc-port(1), shown in its man page; tests/readme.rs runs them.

# Every published port of a container: 80/tcp -> 0.0.0.0:8080.
cc-run -d --name web -p 8080:80 -p 127.0.0.1::53/udp base httpd -f -p 80
cc-port web

# The host address of one port, to reach it from a script.
cc-port web 53/udp
port=$(cc-port web 80)
echo "http://localhost:${port##*:}/"
