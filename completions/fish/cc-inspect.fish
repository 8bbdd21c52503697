complete -c cc-inspect -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-inspect -s f -l format -d 'A Go template run over each object, as docker\'s: `{{.State.Pid}}`, `{{json .Config.Env}}`, `{{range .Mounts}}{{.Source}}{{end}}`, `{{index .Config.Labels "k"}}`; or a path without braces, `State.Pid` (cc\'s own form: strings bare, the rest as JSON); `json` is the default output' -r
complete -c cc-inspect -l type -d 'Only look for images, or only for containers' -r -f -a "image\t''
container\t''"
complete -c cc-inspect -s h -l help -d 'Print help'
complete -c cc-inspect -s V -l version -d 'Print version'

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
complete -c cc-inspect -a '(__cc_store_words both)'
