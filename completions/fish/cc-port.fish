complete -c cc-port -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-port -s h -l help -d 'Print help'
complete -c cc-port -s V -l version -d 'Print version'

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
complete -c cc-port -a '(__cc_store_words containers)'
