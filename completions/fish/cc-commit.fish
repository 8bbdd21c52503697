complete -c cc-commit -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-commit -s m -l message -d 'The history entry\'s comment' -r
complete -c cc-commit -s a -l author -d 'The author, as in `Name <mail>`' -r
complete -c cc-commit -s c -l change -d 'A Dockerfile instruction for the config: CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL, STOPSIGNAL, VOLUME, HEALTHCHECK (repeatable)' -r
complete -c cc-commit -s p -l pause -d 'Freeze a running container while its files are read (`--pause=false` to let it run on)' -r -f -a "true\t''
false\t''"
complete -c cc-commit -l compress -d 'The layer\'s compression; gzip and zstd use every core' -r -f -a "gzip\t''
zstd\t''
none\t''"
complete -c cc-commit -s h -l help -d 'Print help'
complete -c cc-commit -s V -l version -d 'Print version'

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
complete -c cc-commit -a '(__cc_store_words containers)'
