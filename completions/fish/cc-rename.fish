complete -c cc-rename -l root -d 'The store\'s root folder' -r -F
complete -c cc-rename -s h -l help -d 'Print help'
complete -c cc-rename -s V -l version -d 'Print version'
