complete -c cc-pull -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-pull -l tls-verify -d 'Check the registry\'s TLS certificate. With false, certificates are not checked and plain http is tried when https fails (loopback registries, 127.0.0.0/8, ::1 and localhost, get plain http anyway). Credentials are never sent over plain http to any other host' -r -f -a "true\t''
false\t''"
complete -c cc-pull -l cert-dir -d 'More CA certificates (*.crt) for the registry, beside the system\'s, /etc/containers/certs.d/HOST:PORT/*.crt and /etc/docker/certs.d/HOST:PORT/ca.crt' -r -F
complete -c cc-pull -l timeout -d 'Give up on a connection to the registry that moves no data for this long (connecting, waiting for an answer, any read or write); the request is then tried again, a download resuming where it stopped, up to 5 tries in all' -r
complete -c cc-pull -l creds -d 'Credentials, instead of the auth file\'s (see cc-login) or ~/.docker/config.json\'s. With USER alone the password is read from stdin (--password-stdin) or asked on the terminal; USER:PASS on the command line is visible to every user of the host (ps, /proc)' -r
complete -c cc-pull -l platform -d 'The platform to pull from an index, OS/ARCH[/VARIANT] (linux/arm64/v8)' -r
complete -c cc-pull -l password-stdin -d 'Read the password of --creds USER from stdin (one line)'
complete -c cc-pull -s q -l quiet -d 'No progress on stderr'
complete -c cc-pull -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cc-pull -s V -l version -d 'Print version'
