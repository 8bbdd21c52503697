complete -c cc-umount -l root -d 'The store\'s root folder' -r -F
complete -c cc-umount -s h -l help -d 'Print help'
complete -c cc-umount -s V -l version -d 'Print version'
