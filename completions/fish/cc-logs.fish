complete -c cc-logs -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-logs -s n -l tail -d 'Only the last N lines (`all` for every line)' -r
complete -c cc-logs -l since -d 'Only lines since TIME: RFC 3339 (with or without a zone and fraction; no zone is local time), a date 2026-01-02, unix seconds, or a duration ago like 10s, 5m, 1h30m' -r
complete -c cc-logs -l until -d 'Only lines until TIME (the forms of --since); with -f, stop there' -r
complete -c cc-logs -s f -l follow -d 'Follow new output; ends by itself when the container ends'
complete -c cc-logs -s t -l timestamps -d 'Show each line\'s time (RFC 3339) first'
complete -c cc-logs -l details -d 'Show each line\'s extra attributes before it, as docker\'s --details (cc\'s log records have none: the line follows one space)'
complete -c cc-logs -s h -l help -d 'Print help'
complete -c cc-logs -s V -l version -d 'Print version'

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
complete -c cc-logs -a '(__cc_store_words containers)'
