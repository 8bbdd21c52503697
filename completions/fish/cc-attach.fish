complete -c cc-attach -l root -d 'The store\'s root folder' -r -F
complete -c cc-attach -l detach-keys -d 'Keys that detach (default ctrl-p,ctrl-q; "" turns detaching off)' -r
complete -c cc-attach -l no-stdin -d 'Do not send stdin'
complete -c cc-attach -s h -l help -d 'Print help'
complete -c cc-attach -s V -l version -d 'Print version'
