complete -c cc-push -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-push -l tls-verify -d 'Check the registry\'s TLS certificate. With false, certificates are not checked and plain http is tried when https fails (loopback registries, 127.0.0.0/8, ::1 and localhost, get plain http anyway). Credentials are never sent over plain http to any other host' -r -f -a "true\t''
false\t''"
complete -c cc-push -l cert-dir -d 'More CA certificates (*.crt) for the registry, beside the system\'s, /etc/containers/certs.d/HOST:PORT/*.crt and /etc/docker/certs.d/HOST:PORT/ca.crt' -r -F
complete -c cc-push -l timeout -d 'Give up on a connection to the registry that moves no data for this long (connecting, waiting for an answer, any read or write); the request is then tried again, a download resuming where it stopped, up to 5 tries in all' -r
complete -c cc-push -l creds -d 'Credentials, instead of the auth file\'s (see cc-login) or ~/.docker/config.json\'s. With USER alone the password is read from stdin (--password-stdin) or asked on the terminal; USER:PASS on the command line is visible to every user of the host (ps, /proc)' -r
complete -c cc-push -l compression-format -d 'The layers\' format: gzip or zstd sends every layer so, recompressing one stored in the other (as podman\'s --force-compression, which podman sets when this flag is given); none sends every blob and the manifest exactly as stored. Without it, plain layers go gzip and compressed ones as they are. A Docker schema 2 image with zstd layers is pushed as an OCI one' -r -f -a "gzip\t''
zstd\t''
none\t''"
complete -c cc-push -l password-stdin -d 'Read the password of --creds USER from stdin (one line)'
complete -c cc-push -s q -l quiet -d 'No progress on stderr'
complete -c cc-push -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cc-push -s V -l version -d 'Print version'

# The store's words for operands (xtask/src/store_words.rs).
function __cc_store_words
    set -l root
    set -l words (commandline -opc)
    for i in (seq (count $words))
        if test "$words[$i]" = --root; and test $i -lt (count $words)
            set root --root=$words[(math $i + 1)]
        else if string match -q -- '--root=*' $words[$i]
            set root $words[$i]
        end
    end
    if test $argv[1] != images
        cc-ps -a $root --format '{{.Names}}{{println}}{{.ID}}' 2>/dev/null
    end
    if test $argv[1] != containers
        cc-images $root --format '{{if ne .Tag "<none>"}}{{.Repository}}:{{.Tag}}{{end}}' 2>/dev/null | string match -rv '^$'
    end
end
complete -c cc-push -a '(__cc_store_words images)'
