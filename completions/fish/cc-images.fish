complete -c cc-images -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-images -l format -d '`table`, `json` (one object per line), or a Go template as docker\'s: `{{.Repository}}:{{.Tag}}`, `table {{.ID}}\\t{{.Size}}`; fields Repository, Tag, Digest, ID, CreatedSince, CreatedAt, Size, Containers, VirtualSize, SharedSize, UniqueSize, Names, Digests' -r
complete -c cc-images -s f -l filter -d 'Only images that match: dangling (true or false), reference (a glob over REPO or REPO:TAG), label (K or K=V), before, since (an image). Repeated keys are alternatives; different keys must all hold' -r
complete -c cc-images -s q -l quiet -d 'Print image ids only, one per line'
complete -c cc-images -l digests -d 'Show each row\'s repo digest (what the registry named the image by)'
complete -c cc-images -l no-trunc -d 'Show whole ids'
complete -c cc-images -s a -l all -d 'Show all images, the intermediate ones too (unnamed images another image was built on: cc-build\'s steps)'
complete -c cc-images -s h -l help -d 'Print help'
complete -c cc-images -s V -l version -d 'Print version'
