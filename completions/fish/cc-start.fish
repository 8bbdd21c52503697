complete -c cc-start -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-start -l detach-keys -d 'Keys that detach (default ctrl-p,ctrl-q; "" for none)' -r
complete -c cc-start -s a -l attach -d 'Attach to the container\'s output (one container only)'
complete -c cc-start -s i -l interactive -d 'Attach stdin too (the container must have been created with -i)'
complete -c cc-start -l all-restartable -d 'Start every container whose restart policy brings it back after a reboot (always; unless-stopped when the user had not stopped it), and print their ids: what contrib/cc-restart.service runs at boot'
complete -c cc-start -s h -l help -d 'Print help'
complete -c cc-start -s V -l version -d 'Print version'

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
complete -c cc-start -a '(__cc_store_words containers)'
