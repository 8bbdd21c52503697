complete -c cc-login -l tls-verify -d 'Check the registry\'s TLS certificate. With false, certificates are not checked and plain http is tried when https fails (loopback registries, 127.0.0.0/8, ::1 and localhost, get plain http anyway). Credentials are never sent over plain http to any other host' -r -f -a "true\t''
false\t''"
complete -c cc-login -l cert-dir -d 'More CA certificates (*.crt) for the registry, beside the system\'s, /etc/containers/certs.d/HOST:PORT/*.crt and /etc/docker/certs.d/HOST:PORT/ca.crt' -r -F
complete -c cc-login -l timeout -d 'Give up on a connection to the registry that moves no data for this long (connecting, waiting for an answer, any read or write); the request is then tried again, a download resuming where it stopped, up to 5 tries in all' -r
complete -c cc-login -s u -l username -d 'The user name (asked on the terminal when not given)' -r
complete -c cc-login -s p -l password -d 'The password (other users see it in ps(1): --password-stdin is safer)' -r
complete -c cc-login -l password-stdin -d 'Read the password from stdin (one line) instead of the terminal'
complete -c cc-login -s h -l help -d 'Print help'
complete -c cc-login -s V -l version -d 'Print version'
