complete -c cc-rmi -l root -d 'The store\'s root folder' -r -F
complete -c cc-rmi -s f -l force -d 'Remove even when containers use the image (they keep its layers); a missing image is not an error'
complete -c cc-rmi -s h -l help -d 'Print help'
complete -c cc-rmi -s V -l version -d 'Print version'
